/**
 * The constants of NCCL's cost model and topology search (hardware-profiles/nccl/<id>.json): loaded,
 * validated against hardware-profiles/schema/nccl.schema.json and converted to SI — latencies in seconds,
 * bandwidths in bytes/s. The profile keeps NCCL's own units (µs, GB/s = 1e9 B/s) so it reads like the source.
 */
import { resolveProfile } from './profiles.js';

/** The NCCL version GPT-NeoX-20B ran (arXiv 2204.06745: PyTorch 1.10.0, CUDA 11.1, NCCL 2.10.3). */
export const DEFAULT_NCCL = 'nccl-2.10.3';

/**
 * Loads a shipped NCCL profile by id, or a profile file (a path ending in .json), validated against its
 * schema. `file` and `field` say where the reference was given, for the error message.
 */
export function loadNcclProfile(ref: string = DEFAULT_NCCL, file = 'nccl', field = 'profile'): NcclConstants {
  return ncclConstants(resolveProfile('nccl', ref, file, field).data as unknown as NcclProfile);
}

/** Algorithms and protocols of NCCL's cost model; hop kinds of its latency table. */
export type Algorithm = 'tree' | 'ring';
export type Protocol = 'LL' | 'LL128' | 'Simple';
export const ALGORITHMS: readonly Algorithm[] = ['tree', 'ring'];
export const PROTOCOLS: readonly Protocol[] = ['LL', 'LL128', 'Simple'];
export type HopKind = 'nvlink' | 'pci' | 'net';

type PerProtocol<T> = Record<Protocol, T>;
type PerAlgorithm<T> = Record<Algorithm, PerProtocol<T>>;
interface ByNodes<T> {
  oneNode: T;
  twoNodes: T;
  moreNodes: T;
}

export interface NcclConstants {
  id: string;
  baseLatency: PerAlgorithm<number>;
  hwLatency: Record<HopKind, PerAlgorithm<number>>;
  llIntraFactorMultiNode: number;
  ringPlateauFactor: number;
  ringPlateauBytesPerRank: number;
  ampereBusBwCap: number;
  llMaxBw: { oneNode: { volta: number; ampere: number }; twoNodes: { intel: number; amd: number }; moreNodes: { intel: number; amd: number } };
  perChannelMaxTreeBw: { volta: ByNodes<number>; ampere: ByNodes<number> };
  perChannelMaxLL128Bw: number;
  ratios: {
    ringLL: number;
    ringLLOther: number;
    ringLL128: number;
    ringLL128OneGpuPerNode: number;
    tree: number;
    treeLL: number;
    treeLL128OneNode: number;
    treeLL128MultiNode: number;
  };
  treeCorrection: PerProtocol<number[]>;
  wireEfficiency: PerProtocol<number>;
  graph: {
    speedsIntra: number[];
    speedsInter: number[];
    maxChannels: number;
    dupChannelsMinSpeed: number;
    /** By compute capability × 10. */
    nvlinkWidthPerLink: Record<string, number>;
    /** By PCIe generation. */
    pciLaneWidth: Record<string, number>;
  };
  computeCapability: Record<string, number>;
  cpuVendor: Record<string, 'amd' | 'intel'>;
  /** What NCCL allocates per connection (bytes), and when it uses P2P reads and GPUDirect RDMA. */
  memory: {
    buffSizes: PerProtocol<number>;
    connectorHeader: number;
    p2pAlignment: number;
    p2pReadComputeCapability: number;
    netGdrMaxPath: 'PIX' | 'PXB' | 'PHB' | 'SYS';
  };
}

/** The JSON shape of an NCCL profile, as hardware-profiles/schema/nccl.schema.json accepts it. */
export interface NcclProfile {
  kind: 'nccl';
  id: string;
  name: string;
  latency: {
    base: Table<PerAlgorithm<number>>;
    hw: Table<Record<HopKind, PerAlgorithm<number>>>;
    llIntraFactorMultiNode: Value<number>;
    ringPlateauFactor: Value<number>;
    ringPlateauBytesPerRank: Value<number>;
  };
  bandwidth: {
    ampereBusBwCap: Table<number>;
    llMaxBw: Table<NcclConstants['llMaxBw']>;
    perChannelMaxTreeBw: Table<NcclConstants['perChannelMaxTreeBw']>;
    perChannelMaxLL128Bw: Table<number>;
    ratios: { [K in keyof NcclConstants['ratios']]: Value<number> };
    treeCorrection: Value<PerProtocol<number[]>>;
  };
  protocol: { wireEfficiency: Value<PerProtocol<number>> };
  graph: {
    speedsIntra: Table<number[]>;
    speedsInter: Table<number[]>;
    maxChannels: Value<number>;
    dupChannelsMinSpeed: Table<number>;
    nvlinkWidthPerLink: Table<Record<string, number>>;
    pciLaneWidth: Table<Record<string, number>>;
  };
  hardware: { computeCapability: Record<string, Value<number>>; cpuVendor: Record<string, Value<'amd' | 'intel'>> };
  memory: {
    buffSizes: Value<PerProtocol<number>>;
    connectorHeader: Value<number>;
    p2pAlignment: Value<number>;
    p2pReadComputeCapability: Value<number>;
    netGdrMaxPath: Value<NcclConstants['memory']['netGdrMaxPath']>;
  };
}
interface Value<T> {
  value: T;
  source: string;
}
interface Table<T> extends Value<T> {
  unit: 'us' | 'GB/s';
}

const US = 1e-6;
const GBPS = 1e9;

/** Multiplies every number in a nested table by `k`. */
function scale<T>(table: T, k: number): T {
  if (typeof table === 'number') return (table * k) as T;
  if (Array.isArray(table)) return table.map((v) => scale(v, k)) as T;
  return Object.fromEntries(Object.entries(table as object).map(([key, v]) => [key, scale(v, k)])) as T;
}

/** Converts a schema-valid profile to SI constants. */
export function ncclConstants(p: NcclProfile): NcclConstants {
  const b = p.bandwidth;
  const pick = <T>(o: Record<string, Value<T>>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.value]));
  return {
    id: p.id,
    baseLatency: scale(p.latency.base.value, US),
    hwLatency: scale(p.latency.hw.value, US),
    llIntraFactorMultiNode: p.latency.llIntraFactorMultiNode.value,
    ringPlateauFactor: p.latency.ringPlateauFactor.value,
    ringPlateauBytesPerRank: p.latency.ringPlateauBytesPerRank.value,
    ampereBusBwCap: b.ampereBusBwCap.value * GBPS,
    llMaxBw: scale(b.llMaxBw.value, GBPS),
    perChannelMaxTreeBw: scale(b.perChannelMaxTreeBw.value, GBPS),
    perChannelMaxLL128Bw: b.perChannelMaxLL128Bw.value * GBPS,
    ratios: pick(b.ratios) as NcclConstants['ratios'],
    treeCorrection: b.treeCorrection.value,
    wireEfficiency: p.protocol.wireEfficiency.value,
    graph: {
      speedsIntra: scale(p.graph.speedsIntra.value, GBPS),
      speedsInter: scale(p.graph.speedsInter.value, GBPS),
      maxChannels: p.graph.maxChannels.value,
      dupChannelsMinSpeed: p.graph.dupChannelsMinSpeed.value * GBPS,
      nvlinkWidthPerLink: scale(p.graph.nvlinkWidthPerLink.value, GBPS),
      pciLaneWidth: scale(p.graph.pciLaneWidth.value, GBPS),
    },
    computeCapability: pick(p.hardware.computeCapability) as Record<string, number>,
    cpuVendor: pick(p.hardware.cpuVendor) as Record<string, 'amd' | 'intel'>,
    memory: pick(p.memory as unknown as Record<string, Value<unknown>>) as unknown as NcclConstants['memory'],
  };
}
