import { describe, expect, it } from 'vitest';
import { ringOrders, ringHops, treeChannels } from '../../src/sim/collectives/channels.js';
import { commLayout } from '../../src/sim/collectives/layout.js';
import { btree, dtree } from '../../src/sim/collectives/trees.js';
import { cluster } from './helpers/toy-topology.js';

describe("NCCL's binary and double binary trees (src/graph/trees.cc diagrams)", () => {
  it('btree of 14 nodes: 0 → 8 → {4, 12}, 4 → {2, 6}, 12 → {10, 13}', () => {
    expect(btree(14, 0)).toEqual({ up: -1, down: [-1, 8] });
    expect(btree(14, 8)).toEqual({ up: 0, down: [4, 12] });
    expect(btree(14, 4)).toEqual({ up: 8, down: [2, 6] });
    expect(btree(14, 12)).toEqual({ up: 8, down: [10, 13] });
    expect(btree(14, 13)).toEqual({ up: 12, down: [-1, -1] });
    expect(btree(14, 1)).toEqual({ up: 2, down: [-1, -1] });
  });

  it('even counts mirror the first tree: n = 12, tree 1 is 11 → 3 → {1, 7}', () => {
    const t1 = (r: number) => dtree(12, r)[1];
    expect(t1(11)).toEqual({ up: -1, down: [-1, 3] });
    expect(t1(3).up).toBe(11);
    expect([...t1(3).down].sort((a, b) => a - b)).toEqual([1, 7]);
    expect([...t1(1).down].sort((a, b) => a - b)).toEqual([0, 2]);
  });

  it('odd counts shift it by one: n = 13, tree 1 is 1 → 9 → {5, 0}, 0 → 11', () => {
    const t1 = (r: number) => dtree(13, r)[1];
    expect(t1(1)).toEqual({ up: -1, down: [-1, 9] });
    expect(t1(9)).toEqual({ up: 1, down: [5, 0] });
    expect(t1(0)).toEqual({ up: 9, down: [11, -1] });
  });

  it('every node has one parent per tree except the root, and each tree spans all nodes', () => {
    for (const n of [1, 2, 3, 4, 5, 12, 13, 96]) {
      for (const t of [0, 1]) {
        const roots = [...Array(n).keys()].filter((r) => dtree(n, r)[t]!.up === -1);
        expect(roots).toHaveLength(1);
        for (let r = 0; r < n; r++) {
          const { up } = dtree(n, r)[t]!;
          if (up >= 0) expect(dtree(n, up)[t]!.down).toContain(r);
        }
      }
    }
  });
});

describe('channels on NVSwitch nodes with shared HCAs', () => {
  const topo = cluster({ nodes: 3 });

  it('full nodes: channel k enters and leaves each node through HCA k (crossNic = 0)', () => {
    const layout = commLayout(topo, [...Array(24).keys()]);
    const rings = ringOrders(layout, 8);
    expect(rings.map((r) => r.share)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(rings[0]!.order.slice(0, 8)).toEqual([0, 7, 6, 5, 4, 3, 2, 1]);
    expect(rings[1]!.order.slice(0, 8)).toEqual([2, 1, 0, 7, 6, 5, 4, 3]);
    for (const { order } of rings) {
      for (let n = 0; n < 3; n++) {
        const inNode = order.slice(8 * n, 8 * n + 8);
        expect(topo.hcaOfGpu[inNode[0]!]).toBe(topo.hcaOfGpu[inNode[7]!]); // enters and leaves through one HCA
      }
    }
  });

  it('one GPU per HCA (a NeoX data-parallel group): the ring leaves through the next HCA', () => {
    const dp = [0, 1, 2].flatMap((n) => [0, 2, 4, 6].map((g) => 8 * n + g));
    const rings = ringOrders(commLayout(topo, dp), 8);
    expect(rings).toHaveLength(4);
    expect(rings[0]!.order.slice(0, 4)).toEqual([0, 6, 4, 2]);
    expect(rings[1]!.order.slice(0, 4)).toEqual([2, 0, 6, 4]);
    const hops = ringHops(rings[0]!.order, 'ring');
    expect(hops[3]).toEqual([2, 8]); // leaves node 0 from GPU 2 (HCA 1), enters node 1 at GPU 8 (HCA 0)
  });

  it('broadcast and reduce are open chains from and to the root', () => {
    expect(ringHops([5, 6, 7, 8], 'from-root', 7)).toEqual([[7, 8], [8, 5], [5, 6]]);
    expect(ringHops([5, 6, 7, 8], 'to-root', 7)).toEqual([[8, 5], [5, 6], [6, 7]]);
  });

  it('tree channels: chains inside nodes, heads joined by the double binary tree, both directions', () => {
    const layout = commLayout(topo, [...Array(24).keys()]);
    const trees = treeChannels(layout, 8);
    expect(trees).toHaveLength(8); // 4 NIC groups × 2 trees
    expect(trees.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 12);
    const first = trees[0]!.hops;
    // Chain of node 0 for channel 0: 0,1,...,7 — every edge in both directions.
    expect(first).toContainEqual([1, 0]);
    expect(first).toContainEqual([0, 1]);
    // Tree 0 of 3 nodes: 0 → 2 → 1? btree(3): 0's child is 2, 2's child is 1. Node 2's head (GPU 16) sends up to
    // node 0's second GPU (node 0 has only one child, its "second" one), and node 1's head (GPU 8) to node 2's head.
    expect(btree(3, 0)).toEqual({ up: -1, down: [-1, 2] });
    expect(first).toContainEqual([16, 1]);
    expect(first).toContainEqual([1, 16]);
    expect(btree(3, 1).up).toBe(2);
    expect(first).toContainEqual([8, 16]);
    // 2·(chain edges 3 × 7) + 2·(tree edges 2) hops.
    expect(first).toHaveLength(2 * 21 + 2 * 2);
  });
});
