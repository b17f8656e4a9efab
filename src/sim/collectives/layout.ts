import { InputError } from '../../common/errors.js';
import type { Topology } from '../../hardware/topology.js';

/** NCCL's path types from a GPU to its NIC, best first (src/graph/topo.h PATH_PIX … PATH_SYS). */
export type NetPath = 'PIX' | 'PXB' | 'PHB' | 'SYS';
const NET_PATHS: readonly NetPath[] = ['PIX', 'PXB', 'PHB', 'SYS'];

/** Where a communicator's ranks sit: nodes, the HCA each GPU sends through, and the kinds of paths between them. */
export interface CommLayout {
  /** Global GPU index of each rank. */
  ranks: readonly number[];
  nRanks: number;
  nNodes: number;
  /** Per node (in order of each node's first rank), its GPUs in rank order. */
  perNode: number[][];
  /**
   * Per node, its GPUs grouped by the HCA they reach the fabric through: groups in HCA order, GPUs in index
   * order. This is the order channels walk a node in (see channels.ts). Single-node communicators: one group.
   */
  hcaGroups: number[][][];
  /** Every pair of the communicator's GPUs inside a node is joined by NVLink alone (NCCL typeIntra = NVL). */
  intraNvlink: boolean;
  /** The worst path from a communicator GPU to its HCA (NCCL typeInter). */
  netPath: NetPath;
}

interface GpuNet {
  hca: number;
  path: NetPath;
}
const netCache = new WeakMap<Topology, Map<number, GpuNet>>();

/** The HCA GPU `g` sends inter-node traffic through (the one on its route out of the node) and the path to it. */
function gpuNet(topology: Topology, g: number): GpuNet {
  let cache = netCache.get(topology);
  if (!cache) netCache.set(topology, (cache = new Map()));
  const hit = cache.get(g);
  if (hit) return hit;
  const node = nodeOf(topology, g);
  const peer = topology.gpus.findIndex((_, h) => nodeOf(topology, h) !== node);
  let result: GpuNet = { hca: -1, path: 'PIX' };
  if (peer >= 0) {
    let switches = 0;
    let cpus = 0;
    let crossSocket = false;
    for (const l of topology.route(g, peer)) {
      const link = topology.links[l]!;
      const dst = topology.devices[link.dst]!;
      if (link.cls === 'xgmi') crossSocket = true;
      if (dst.kind === 'hca') {
        const path: NetPath = crossSocket || cpus > 1 ? 'SYS' : cpus === 1 ? 'PHB' : switches > 1 ? 'PXB' : 'PIX';
        result = { hca: dst.id, path };
        break;
      }
      if (dst.kind === 'pcie-switch') switches++;
      if (dst.kind === 'cpu') cpus++;
    }
  }
  cache.set(g, result);
  return result;
}

export function nodeOf(topology: Topology, g: number): number {
  return topology.devices[topology.gpus[g]!]!.node;
}

/** Analyses a communicator given as global GPU indices in rank order. Throws InputError for bad ranks. */
export function commLayout(topology: Topology, ranks: readonly number[]): CommLayout {
  const n = topology.gpus.length;
  const seen = new Set<number>();
  for (const g of ranks) {
    if (!Number.isInteger(g) || g < 0 || g >= n) throw InputError.field('', 'ranks', `GPU indices 0..${n - 1} of cluster ${topology.name}`, g);
    if (seen.has(g)) throw InputError.field('', 'ranks', 'distinct GPU indices (each GPU once)', `GPU ${g} twice`);
    seen.add(g);
  }
  if (ranks.length === 0) throw InputError.field('', 'ranks', 'at least one GPU', '(none)');
  const byNode = new Map<number, number[]>();
  for (const g of ranks) {
    const node = nodeOf(topology, g);
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(g);
  }
  const perNode = [...byNode.values()];
  const multiNode = perNode.length > 1;
  let worst = 0;
  const hcaGroups = perNode.map((gpus) => {
    if (!multiNode) return [[...gpus].sort((a, b) => a - b)];
    const groups = new Map<number, number[]>();
    for (const g of [...gpus].sort((a, b) => a - b)) {
      const { hca, path } = gpuNet(topology, g);
      worst = Math.max(worst, NET_PATHS.indexOf(path));
      let list = groups.get(hca);
      if (!list) groups.set(hca, (list = []));
      list.push(g);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
  });
  const intraNvlink = perNode.every((gpus) => {
    for (let i = 1; i < gpus.length; i++) {
      if (!topology.route(gpus[i - 1]!, gpus[i]!).every((l) => topology.links[l]!.cls === 'nvlink')) return false;
    }
    return true;
  });
  return { ranks, nRanks: ranks.length, nNodes: perNode.length, perNode, hcaGroups, intraNvlink, netPath: NET_PATHS[worst]! };
}
