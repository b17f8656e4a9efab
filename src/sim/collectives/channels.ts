import type { CommLayout } from './layout.js';
import { dtree } from './trees.js';

/**
 * The channels a communicator's collectives run on, built the way NCCL 2.10.3 builds them for NVSwitch nodes
 * whose NICs each sit behind a PCIe switch with some of the GPUs (no PXN in 2.10.3: a GPU reaches the fabric
 * only through its own NIC):
 *
 * Rings. A node's GPUs are listed grouped by NIC (NIC order, then GPU index). Channel k enters every node
 * through the NIC of group k (mod the node's group count) at that group's first GPU, then walks the list
 * backwards, so it leaves the node from the GPU listed right after the entry GPU:
 *  - with two GPUs of the communicator behind each NIC (a full 8-GPU node with 4 NICs), that is the entry
 *    GPU's partner, and the channel enters and leaves through the same NIC (NCCL's crossNic = 0 ring);
 *    4 channels use the 4 NICs, each NIC once in each direction;
 *  - with one GPU per NIC (e.g. a data-parallel group of 12 ranks, 4 on each of 3 nodes, on GPUs 0,2,4,6),
 *    the channel leaves through the next group's NIC (NCCL's NCCL_CROSS_NIC=2 lets the search do that);
 *    each NIC still carries one channel in and one out, but the hop between nodes now joins NICs of
 *    different rails, so it may cross the switches' trunk;
 *  - with one GPU per node, the ring enters and leaves through that GPU's NIC.
 * Nodes follow each other in the communicator's node order. Inside one node all rings cross the NVSwitch
 * the same way, so a single-node communicator has one distinct ring.
 *
 * Trees. A channel's intra-node chain starts at the same entry GPU and runs forwards through the list; the
 * nodes form NCCL's double binary tree (trees.ts). NCCL's balanced-tree pattern puts the parent and the
 * first child on the chain's first GPU and the second child on its second GPU. NCCL runs each graph
 * channel twice, once per tree of the pair.
 *
 * NCCL channel i (of nChannels) runs distinct ring i mod K; the data is split evenly over channels, so a
 * distinct ring carries the share of the channels mapped to it.
 */
export interface Channel {
  /** GPU-to-GPU hops of the pipelined pattern, as [src, dst] global GPU indices; may repeat. */
  hops: [number, number][];
  /** Fraction of the collective's data this channel carries. */
  share: number;
}

/** Distinct ring orders (global GPU indices, ring order) and how many NCCL channels run each. */
export function ringOrders(layout: CommLayout, nChannels: number): { order: number[]; share: number }[] {
  const k = distinctChannels(layout);
  const orders = Array.from({ length: Math.min(k, nChannels) }, (_, c) =>
    layout.hcaGroups.flatMap((groups) => {
      const list = groups.flat();
      const entry = list.indexOf(groups[c % groups.length]![0]!);
      return list.map((_, i) => list[(entry - i + list.length) % list.length]!);
    }),
  );
  return orders.map((order, c) => ({ order, share: channelsMappedTo(c, orders.length, nChannels) / nChannels }));
}

/** A ring's hops for a collective: the closed ring, or the open chain from (broadcast) or to (reduce) a root. */
export function ringHops(order: readonly number[], pattern: 'ring' | 'from-root' | 'to-root', rootGpu = order[0]!): [number, number][] {
  const p = order.length;
  const r = order.indexOf(rootGpu);
  const at = (i: number) => order[(((r + i) % p) + p) % p]!;
  if (pattern === 'ring') return order.map((g, i) => [g, order[(i + 1) % p]!]);
  if (pattern === 'from-root') return Array.from({ length: p - 1 }, (_, i) => [at(i), at(i + 1)]);
  return Array.from({ length: p - 1 }, (_, i) => [at(i + 1), at(i + 2)]);
}

export function ringChannels(layout: CommLayout, nChannels: number, pattern: 'ring' | 'from-root' | 'to-root', rootGpu?: number): Channel[] {
  return ringOrders(layout, nChannels).map(({ order, share }) => ({ hops: ringHops(order, pattern, rootGpu), share }));
}

/** Double-binary-tree channels: per distinct chain, one channel per tree, both directions of every edge. */
export function treeChannels(layout: CommLayout, nChannels: number): Channel[] {
  const graphChannels = Math.max(1, nChannels / 2);
  const k = Math.min(distinctChannels(layout), graphChannels);
  const nNodes = layout.nNodes;
  const out: Channel[] = [];
  for (let c = 0; c < k; c++) {
    const chains = layout.hcaGroups.map((groups) => {
      const list = groups.flat();
      const entry = list.indexOf(groups[c % groups.length]![0]!);
      return list.map((_, i) => list[(entry + i) % list.length]!);
    });
    for (let t = 0; t < 2; t++) {
      const hops: [number, number][] = [];
      for (let n = 0; n < nNodes; n++) {
        const chain = chains[n]!;
        for (let i = 0; i + 1 < chain.length; i++) hops.push([chain[i + 1]!, chain[i]!], [chain[i]!, chain[i + 1]!]);
        const { up } = dtree(nNodes, n)[t]!;
        if (up < 0) continue;
        const parent = chains[up]!;
        const second = dtree(nNodes, up)[t]!.down[1] === n;
        const at = second && parent.length > 1 ? parent[1]! : parent[0]!;
        hops.push([chain[0]!, at], [at, chain[0]!]);
      }
      out.push({ hops, share: channelsMappedTo(c, k, graphChannels) / graphChannels / 2 });
    }
  }
  return out;
}

/** How many of n channels map to distinct channel c of k when channel i runs distinct channel i mod k. */
function channelsMappedTo(c: number, k: number, n: number): number {
  return Math.floor(n / k) + (c < n % k ? 1 : 0);
}

/** Distinct channels: one per NIC group on the node with most groups; one inside a single node. */
export function distinctChannels(layout: CommLayout): number {
  return layout.nNodes === 1 ? 1 : Math.max(...layout.hcaGroups.map((g) => g.length));
}
