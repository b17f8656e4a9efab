/**
 * Validated profiles converted to SI numbers (bytes, bytes/s, FLOP/s, Hz, s). These specs are what the rest of
 * the project reads; `sources` keeps the citation of every number under its profile field path.
 */
import type {
  CpuProfile, GpuProfile, IbSwitchProfile, NicProfile, PcieSwitchProfile, ServerProfile, Sourced,
} from './profile-types.js';
import { type Dimension, toSI } from './units.js';

export type Sources = Record<string, string>;

export type TensorDtype = 'fp16' | 'bf16' | 'tf32' | 'fp8' | 'fp64';

export interface GemmTile {
  m: number;
  n: number;
}

export interface GpuSpec {
  id: string;
  name: string;
  /** Dense tensor-core peaks, FLOP/s; absent where the GPU has no such tensor path (fp8 on A100). */
  tensorFlops: Partial<Record<TensorDtype, number>>;
  vectorFlops: { fp32: number; fp64: number };
  /** Nominal HBM capacity, bytes. */
  hbmBytes: number;
  /** What the CUDA driver reports as total memory where measured, else the nominal capacity. */
  hbmUsableBytes: number;
  hbmBandwidth: number;
  smCount: number;
  l2Bytes: number;
  boostClockHz: number;
  nvlinkGeneration: number;
  nvlinkLinks: number;
  /** All NVLinks together, per direction, bytes/s (line rate). */
  nvlinkBandwidth: number;
  pcieGeneration: number;
  /** Host PCIe, per direction, bytes/s (raw). */
  pcieBandwidth: number;
  calibration: {
    /** Best measured dense bf16 GEMM rate, FLOP/s. */
    gemmMaxAchievableFlops: number;
    /** gemmMaxAchievableFlops / tensor bf16 peak. */
    gemmEfficiency: number;
    /** Output tile shapes for tile/wave quantization, most efficient first. */
    gemmTiles: GemmTile[];
    /** Fraction of peak HBM bandwidth a streaming kernel reaches. */
    hbmEfficiency: number;
    /** NVLink payload bandwidth per direction after protocol overhead, bytes/s. */
    nvlinkPayloadBandwidth: number;
    /** FlashAttention-2 forward / backward rate as a fraction of the 16-bit tensor peak; absent = not profiled. */
    flashAttentionForward?: number;
    flashAttentionBackward?: number;
  };
  /** GPU memory a training process holds besides its tensors (for the software stack the sources name). */
  runtime: {
    /** The CUDA context with the kernels loaded at start-up, bytes. */
    cudaContextBytes: number;
    /** One cuBLAS workspace, bytes; there is one per handle and stream that runs GEMMs. */
    cublasWorkspaceBytes: number;
    cublasHandles: number;
  };
  sources: Sources;
}

export interface CpuSpec {
  id: string;
  name: string;
  cores: number;
  threads: number;
  baseClockHz: number;
  boostClockHz: number;
  l3Bytes: number;
  memoryChannels: number;
  memoryBandwidth: number;
  pcieLanes: number;
  rootComplexLatency: number;
  sources: Sources;
}

export interface NicSpec {
  id: string;
  name: string;
  /** Signalling rate per direction, bytes/s. */
  lineRate: number;
  /** Payload rate reached by NCCL-style transfers, bytes/s. */
  achievable: number;
  /** Charged each time a path passes through the adapter, s. */
  latency: number;
  pcieGeneration: number;
  pcieLanes: number;
  sources: Sources;
}

export interface IbSwitchSpec {
  id: string;
  name: string;
  ports: number;
  portRate: number;
  portPayload: number;
  latency: number;
  sources: Sources;
}

export interface PcieSwitchSpec {
  id: string;
  name: string;
  generation: number;
  portLanes: number;
  portRate: number;
  portPayload: number;
  latency: number;
  sources: Sources;
}

/** The server's own numbers (which devices it holds is in the profile and ServerLayout). */
export interface ServerSpec {
  id: string;
  name: string;
  nvswitchChips: number;
  /** GPU-to-GPU latency through the NVSwitch fabric, s. */
  nvswitchHopLatency: number;
  xgmiLinks: number;
  /** All xGMI links together, per direction, bytes/s. */
  xgmiBandwidth: number;
  xgmiLatency: number;
  sources: Sources;
}

/** Reads sourced fields, converting quantities to SI and recording each citation under its field path. */
class Reader {
  readonly sources: Sources = {};
  q(path: string, s: Sourced, dim: Dimension): number {
    this.sources[path] = s.source;
    return toSI(s.value, dim);
  }
  n<T>(path: string, s: Sourced<T>): T {
    this.sources[path] = s.source;
    return s.value;
  }
}

export function gpuSpec(p: GpuProfile): GpuSpec {
  const r = new Reader();
  const tensorFlops: Partial<Record<TensorDtype, number>> = {};
  for (const dtype of ['fp16', 'bf16', 'tf32', 'fp8', 'fp64'] as const) {
    const s = p.tensor[dtype];
    if (s) tensorFlops[dtype] = r.q(`tensor.${dtype}`, s, 'flops');
  }
  const hbmBytes = r.q('hbm.capacity', p.hbm.capacity, 'bytes');
  const gemmMax = r.q('calibration.gemmMaxAchievable', p.calibration.gemmMaxAchievable, 'flops');
  return {
    id: p.id,
    name: p.name,
    tensorFlops,
    vectorFlops: { fp32: r.q('vector.fp32', p.vector.fp32, 'flops'), fp64: r.q('vector.fp64', p.vector.fp64, 'flops') },
    hbmBytes,
    hbmUsableBytes: p.hbm.usable ? r.q('hbm.usable', p.hbm.usable, 'bytes') : hbmBytes,
    hbmBandwidth: r.q('hbm.bandwidth', p.hbm.bandwidth, 'bandwidth'),
    smCount: r.n('sms', p.sms),
    l2Bytes: r.q('l2', p.l2, 'bytes'),
    boostClockHz: r.q('clocks.boost', p.clocks.boost, 'frequency'),
    nvlinkGeneration: r.n('nvlink.generation', p.nvlink.generation),
    nvlinkLinks: r.n('nvlink.links', p.nvlink.links),
    nvlinkBandwidth: r.q('nvlink.bandwidth', p.nvlink.bandwidth, 'bandwidth'),
    pcieGeneration: r.n('pcie.generation', p.pcie.generation),
    pcieBandwidth: r.q('pcie.bandwidth', p.pcie.bandwidth, 'bandwidth'),
    calibration: {
      gemmMaxAchievableFlops: gemmMax,
      gemmEfficiency: gemmMax / tensorFlops.bf16!,
      gemmTiles: r.n('calibration.gemmTiles', p.calibration.gemmTiles).map(parseTile),
      hbmEfficiency: r.n('calibration.hbmEfficiency', p.calibration.hbmEfficiency),
      nvlinkPayloadBandwidth: r.q('calibration.nvlinkPayload', p.calibration.nvlinkPayload, 'bandwidth'),
      ...(p.calibration.flashAttentionForward ? { flashAttentionForward: r.n('calibration.flashAttentionForward', p.calibration.flashAttentionForward) } : {}),
      ...(p.calibration.flashAttentionBackward ? { flashAttentionBackward: r.n('calibration.flashAttentionBackward', p.calibration.flashAttentionBackward) } : {}),
    },
    runtime: {
      cudaContextBytes: r.q('runtime.cudaContext', p.runtime.cudaContext, 'bytes'),
      cublasWorkspaceBytes: r.q('runtime.cublasWorkspace', p.runtime.cublasWorkspace, 'bytes'),
      cublasHandles: r.n('runtime.cublasHandles', p.runtime.cublasHandles),
    },
    sources: r.sources,
  };
}

function parseTile(text: string): GemmTile {
  const [m, n] = text.split('x').map(Number);
  return { m: m!, n: n! };
}

export function cpuSpec(p: CpuProfile): CpuSpec {
  const r = new Reader();
  return {
    id: p.id,
    name: p.name,
    cores: r.n('cores', p.cores),
    threads: r.n('threads', p.threads),
    baseClockHz: r.q('clocks.base', p.clocks.base, 'frequency'),
    boostClockHz: r.q('clocks.boost', p.clocks.boost, 'frequency'),
    l3Bytes: r.q('l3', p.l3, 'bytes'),
    memoryChannels: r.n('memoryChannels', p.memoryChannels),
    memoryBandwidth: r.q('memoryBandwidth', p.memoryBandwidth, 'bandwidth'),
    pcieLanes: r.n('pcieLanes', p.pcieLanes),
    rootComplexLatency: r.q('rootComplexLatency', p.rootComplexLatency, 'time'),
    sources: r.sources,
  };
}

export function nicSpec(p: NicProfile): NicSpec {
  const r = new Reader();
  return {
    id: p.id,
    name: p.name,
    lineRate: r.q('lineRate', p.lineRate, 'bandwidth'),
    achievable: r.q('achievable', p.achievable, 'bandwidth'),
    latency: r.q('latency', p.latency, 'time'),
    pcieGeneration: r.n('pcie.generation', p.pcie.generation),
    pcieLanes: r.n('pcie.lanes', p.pcie.lanes),
    sources: r.sources,
  };
}

export function ibSwitchSpec(p: IbSwitchProfile): IbSwitchSpec {
  const r = new Reader();
  return {
    id: p.id,
    name: p.name,
    ports: r.n('ports', p.ports),
    portRate: r.q('portRate', p.portRate, 'bandwidth'),
    portPayload: r.q('portPayload', p.portPayload, 'bandwidth'),
    latency: r.q('latency', p.latency, 'time'),
    sources: r.sources,
  };
}

export function pcieSwitchSpec(p: PcieSwitchProfile): PcieSwitchSpec {
  const r = new Reader();
  return {
    id: p.id,
    name: p.name,
    generation: r.n('generation', p.generation),
    portLanes: r.n('portLanes', p.portLanes),
    portRate: r.q('portRate', p.portRate, 'bandwidth'),
    portPayload: r.q('portPayload', p.portPayload, 'bandwidth'),
    latency: r.q('latency', p.latency, 'time'),
    sources: r.sources,
  };
}

export function serverSpec(p: ServerProfile): ServerSpec {
  const r = new Reader();
  const links = r.n('xgmi.links', p.xgmi.links);
  return {
    id: p.id,
    name: p.name,
    nvswitchChips: r.n('nvswitch.chips', p.nvswitch.chips),
    nvswitchHopLatency: r.q('nvswitch.hopLatency', p.nvswitch.hopLatency, 'time'),
    xgmiLinks: links,
    xgmiBandwidth: links * r.q('xgmi.bandwidthPerLink', p.xgmi.bandwidthPerLink, 'bandwidth'),
    xgmiLatency: r.q('xgmi.latency', p.xgmi.latency, 'time'),
    sources: r.sources,
  };
}
