/**
 * Headline capacity figures of a cluster, computed from its topology: injection bandwidth per node,
 * bisection bandwidth (maximum flow between the two halves of the nodes), switch oversubscription, and the
 * NVLink/PCIe/GPU-to-HCA figures a reader checks first.
 */
import type { Cluster } from './cluster.js';
import { FlowNetwork } from './max-flow.js';
import type { GpuHcaPath } from './server-layout.js';
import type { Link, LinkClass } from './topology.js';

export interface Rate {
  /** Signalling rate, bytes/s. */
  line: number;
  /** Payload rate after protocol overhead, bytes/s. */
  payload: number;
}

export interface ClusterMetrics {
  devices: Record<string, number>;
  /** Directed links per class (each cable counts once per direction). */
  links: Partial<Record<LinkClass, number>>;
  /** Per node, per direction: all its HCAs together. */
  injectionPerNode: Rate;
  /**
   * Per direction: the maximum flow from the HCAs of nodes [0, n/2) to those of [n/2, n) over the fabric's
   * links, switches free to carry traffic either way (n/2 rounded down; 0 for one node).
   */
  bisection: Rate;
  /** Half the nodes' injection: the bisection of a full-bisection fabric. */
  fullBisection: Rate;
  /** Largest ratio over IB switches of HCA-facing to switch-facing port capacity (≤ 1: non-blocking). */
  oversubscription: number;
  /** Two-switch fabrics: trunk capacity per direction. */
  trunk?: Rate & { links: number; hcaPortsPerSwitch: number };
  nvlinkPerGpu: Rate & { links: number };
  pciePerGpu: Rate;
  pciePerHca: Rate;
  /** Per local GPU: its PCIe switch, socket, HCA, the IB switch that HCA is cabled to, and the path kind. */
  gpuToHca: Array<{ gpu: number; pcieSwitch: number; socket: number; hca: number; ibSwitch: string; path: GpuHcaPath }>;
  /** Most GPUs of a node that share one HCA. */
  gpusPerHca: number;
}

export function clusterMetrics(c: Cluster): ClusterMetrics {
  const { topology: t } = c;
  const tally = <T extends string>(xs: T[]) => xs.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {} as Record<T, number>);
  const rate = (l: Link): Rate => ({ line: l.lineRate ?? l.bandwidth, payload: l.bandwidth });
  const sum = (ls: Link[]): Rate => ls.reduce((a, l) => ({ line: a.line + rate(l).line, payload: a.payload + l.bandwidth }), { line: 0, payload: 0 });

  const hcaUplinks = (node: number) => t.links.filter((l) => l.cls === 'hca' && t.devices[l.src]!.node === node && t.devices[l.src]!.kind === 'hca');
  const injectionPerNode = sum(hcaUplinks(0));
  const half = Math.floor(c.nodes / 2);
  const scale = (r: Rate, k: number): Rate => ({ line: r.line * k, payload: r.payload * k });

  const link = (pred: (l: Link) => boolean) => t.links.find(pred)!;
  const gpu0 = t.gpus[0]!;
  const nvlink = link((l) => l.src === gpu0 && l.cls === 'nvlink');
  const gpuPcie = link((l) => l.src === gpu0 && l.cls === 'pcie');
  const hcaPcie = link((l) => l.src === c.hcaDevice(0) && l.cls === 'pcie');

  const switchName = (hca: number) => t.devices[link((l) => l.src === c.hcaDevice(hca) && l.cls === 'hca').dst]!.name;
  const gpuToHca = c.layout.hcaOfGpu.map((hca, gpu) => ({
    gpu,
    pcieSwitch: c.layout.switchOfGpu[gpu]!,
    socket: c.layout.switches[c.layout.switchOfGpu[gpu]!]!.socket,
    hca,
    ibSwitch: switchName(hca),
    path: c.layout.gpuHcaPath[gpu]!,
  }));
  const trunks = t.links.filter((l) => l.cls === 'trunk');
  const trunkOut = trunks.filter((l) => l.src === trunks[0]?.src);
  return {
    devices: tally(t.devices.map((d) => d.kind)),
    links: tally(t.links.map((l) => l.cls)),
    injectionPerNode,
    bisection: { line: bisection(c, half, 'line'), payload: bisection(c, half, 'payload') },
    fullBisection: scale(injectionPerNode, half),
    oversubscription: oversubscription(t.links, t.devices.map((d) => d.kind)),
    trunk: trunks.length
      ? { ...sum(trunkOut), links: trunkOut.length, hcaPortsPerSwitch: t.links.filter((l) => l.cls === 'hca' && l.dst === trunks[0]!.src).length }
      : undefined,
    nvlinkPerGpu: { ...rate(nvlink), links: c.gpu.nvlinkLinks },
    pciePerGpu: rate(gpuPcie),
    pciePerHca: rate(hcaPcie),
    gpuToHca,
    gpusPerHca: Math.max(...Object.values(tally(c.layout.hcaOfGpu.map(String)))),
  };
}

/** Max flow from the first `half` nodes' HCAs to the remaining nodes' HCAs over the IB fabric. */
function bisection(c: Cluster, half: number, kind: 'line' | 'payload'): number {
  if (half === 0) return 0;
  const { devices, links } = c.topology;
  const fabricLinks = links.filter((l) => l.cls === 'hca' || l.cls === 'trunk' || l.cls === 'switch-port');
  const source = devices.length;
  const sink = devices.length + 1;
  const net = new FlowNetwork(devices.length + 2);
  for (const l of fabricLinks) net.addEdge(l.src, l.dst, kind === 'line' ? l.lineRate ?? l.bandwidth : l.bandwidth);
  for (let h = 0; h < c.hcaCount; h++) {
    const dev = c.hcaDevice(h);
    if (devices[dev]!.node < half) net.addEdge(source, dev, Infinity);
    else net.addEdge(dev, sink, Infinity);
  }
  return net.maxFlow(source, sink);
}

/** Max over IB switches of (capacity of ports facing HCAs) / (capacity of ports facing other switches). */
function oversubscription(links: Link[], kinds: string[]): number {
  const down = new Map<number, number>();
  const up = new Map<number, number>();
  for (const l of links) {
    if (kinds[l.src] !== 'ib-switch') continue;
    const m = kinds[l.dst] === 'hca' ? down : up;
    m.set(l.src, (m.get(l.src) ?? 0) + (l.lineRate ?? l.bandwidth));
  }
  let worst = 0;
  for (const [sw, d] of down) worst = Math.max(worst, up.has(sw) ? d / up.get(sw)! : 0);
  return worst;
}
