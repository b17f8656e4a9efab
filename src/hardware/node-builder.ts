/**
 * The devices and links inside one server: GPUs on one logical NVSwitch (the HGX board's six chips act as a
 * single non-blocking crossbar, and NVLink traffic is striped over all of them), PCIe switches carrying GPUs
 * and HCAs, CPU sockets joined by xGMI. A link's latency is that of the device it enters (switch forwarding,
 * adapter, root complex); NVLink's GPU-to-GPU hop latency is split over its two links.
 */
import type { LinkSpec, TopologyBuilder } from './topology-builder.js';
import type { ServerLayout } from './server-layout.js';
import type { CpuSpec, GpuSpec, NicSpec, PcieSwitchSpec } from './specs.js';

export interface NodeParts {
  gpu: GpuSpec;
  cpu: CpuSpec;
  nic: NicSpec;
  pcieSwitch: PcieSwitchSpec;
  /** NIC host-interface raw rate, bytes/s. */
  nicPcieRate: number;
  nvswitchHopLatency: number;
  xgmiBandwidth: number;
  xgmiLatency: number;
  layout: ServerLayout;
}

export interface NodeWiring {
  gpus: number[];
  hcas: number[];
  gpuToNvswitch: number[];
  nvswitchToGpu: number[];
  /** Per local GPU: link ids from the GPU to the HCA it uses. */
  gpuToHca: number[][];
  /** Per local GPU: link ids from its HCA back to the GPU. */
  hcaToGpu: number[][];
}

export function buildNode(b: TopologyBuilder, node: number, p: NodeParts): NodeWiring {
  const { layout, gpu, pcieSwitch: sw } = p;
  const at = (name: string) => `node${node}/${name}`;
  const gpus = Array.from({ length: layout.gpusPerNode }, (_, i) => b.device('gpu', at(`gpu${i}`), node));
  const nvswitch = b.device('nvswitch', at('nvswitch'), node);
  const switches = layout.switches.map((_, i) => b.device('pcie-switch', at(`pcie-sw${i}`), node));
  const cpus = Array.from({ length: layout.sockets }, (_, i) => b.device('cpu', at(`cpu${i}`), node));
  const hcas = Array.from({ length: layout.hcasPerNode }, (_, i) => b.device('hca', at(`hca${i}`), node));

  const nvlink: LinkSpec = {
    cls: 'nvlink',
    bandwidth: gpu.calibration.nvlinkPayloadBandwidth,
    lineRate: gpu.nvlinkBandwidth,
    latency: p.nvswitchHopLatency / 2,
  };
  const gpuToNvswitch: number[] = [];
  const nvswitchToGpu: number[] = [];
  for (const g of gpus) {
    const [up, down] = b.duplex(g, nvswitch, nvlink);
    gpuToNvswitch.push(up);
    nvswitchToGpu.push(down);
  }

  // A device slower than the switch port (or faster, e.g. a Gen5 GPU on a Gen4 switch) runs at the lower rate.
  const pcie = (deviceRate: number, latency: number): LinkSpec => {
    const lineRate = Math.min(deviceRate, sw.portRate);
    return { cls: 'pcie', lineRate, bandwidth: sw.portPayload * (lineRate / sw.portRate), latency };
  };
  const gpuUp: number[] = [];
  const gpuDown: number[] = [];
  layout.switchOfGpu.forEach((s, g) => {
    const [up, down] = b.duplex(gpus[g]!, switches[s]!, pcie(gpu.pcieBandwidth, sw.latency), { latency: 0 });
    gpuUp[g] = up;
    gpuDown[g] = down;
  });
  const hcaUp: number[] = [];
  const hcaDown: number[] = [];
  layout.switchOfHca.forEach((s, h) => {
    const [up, down] = b.duplex(hcas[h]!, switches[s]!, pcie(p.nicPcieRate, sw.latency), { latency: p.nic.latency });
    hcaUp[h] = up;
    hcaDown[h] = down;
  });
  const toCpu: number[] = [];
  const fromCpu: number[] = [];
  layout.switches.forEach((slot, s) => {
    const [up, down] = b.duplex(switches[s]!, cpus[slot.socket]!, pcie(sw.portRate, p.cpu.rootComplexLatency), { latency: sw.latency });
    toCpu[s] = up;
    fromCpu[s] = down;
  });
  // Sockets in a ring (a single xGMI bundle for the usual two).
  const xgmi: number[][] = cpus.map(() => []);
  const xgmiSpec: LinkSpec = { cls: 'xgmi', bandwidth: p.xgmiBandwidth, lineRate: p.xgmiBandwidth, latency: p.xgmiLatency };
  for (let c = 0; c + 1 < cpus.length; c++) {
    const [ab, ba] = b.duplex(cpus[c]!, cpus[c + 1]!, xgmiSpec);
    xgmi[c]![c + 1] = ab;
    xgmi[c + 1]![c] = ba;
  }
  const socketPath = (from: number, to: number): number[] => {
    const path: number[] = [];
    for (let c = from; c !== to; c += Math.sign(to - from)) path.push(xgmi[c]![c + Math.sign(to - from)]!);
    return path;
  };

  const gpuToHca: number[][] = [];
  const hcaToGpu: number[][] = [];
  layout.hcaOfGpu.forEach((h, g) => {
    const sg = layout.switchOfGpu[g]!;
    const sh = layout.switchOfHca[h]!;
    if (sg === sh) {
      gpuToHca[g] = [gpuUp[g]!, hcaDown[h]!];
      hcaToGpu[g] = [hcaUp[h]!, gpuDown[g]!];
      return;
    }
    const cg = layout.switches[sg]!.socket;
    const ch = layout.switches[sh]!.socket;
    gpuToHca[g] = [gpuUp[g]!, toCpu[sg]!, ...socketPath(cg, ch), fromCpu[sh]!, hcaDown[h]!];
    hcaToGpu[g] = [hcaUp[h]!, toCpu[sh]!, ...socketPath(ch, cg), fromCpu[sg]!, gpuDown[g]!];
  });
  return { gpus, hcas, gpuToNvswitch, nvswitchToGpu, gpuToHca, hcaToGpu };
}
