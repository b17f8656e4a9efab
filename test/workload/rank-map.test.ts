import { describe, expect, it } from 'vitest';
import { buildRankMap } from '../../src/workload/rank-map.js';
import { COMM, rankOf } from '../../src/workload/task-graph.js';

const GPUS_PER_NODE = 8;
const node = (gpu: number) => Math.floor(gpu / GPUS_PER_NODE);
const nodesOf = (ranks: Int32Array, gpuOf: Int32Array) => Array.from(ranks, (r) => node(gpuOf[r]!));

describe('rank mapping of the 20B run (TP 2, PP 4, DP 12 on 12 nodes × 8 GPUs), both views of neox-20b.md §1.4', () => {
  it('view B, gpt-neox order pipe,data,model: TP pairs on one node, a stage on 3 nodes, pipeline sends to node n+3', () => {
    const m = buildRankMap({ tp: 2, pp: 4, dp: 12, rankOrder: ['pipe', 'data', 'model'] });
    const tp = m.groups[COMM.tp]!;
    const dp = m.groups[COMM.dp]!;
    expect(tp.members).toHaveLength(48);
    for (const g of tp.members) expect(new Set(nodesOf(g, m.gpuOfRank)).size).toBe(1);
    expect(Array.from(tp.members[0]!)).toEqual([0, 1]);
    // Stage 0 = ranks 0..23 = nodes 0-2; its DP group of TP rank 0 holds 4 ranks per node.
    expect(Array.from(dp.members[dp.groupOfRank[0]!]!)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
    expect(nodesOf(dp.members[dp.groupOfRank[0]!]!, m.gpuOfRank)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    for (let r = 0; r < 72; r++) {
      const next = rankOf(m, { pipe: m.coords.pipe[r]! + 1, data: m.coords.data[r]!, model: m.coords.model[r]! });
      expect(next).toBe(r + 24);
      expect(node(m.gpuOfRank[next]!)).toBe(node(m.gpuOfRank[r]!) + 3);
    }
  });

  it('view A, order data,pipe,model: one model replica per node, DP groups one rank per node', () => {
    const m = buildRankMap({ tp: 2, pp: 4, dp: 12, rankOrder: ['data', 'pipe', 'model'] });
    for (let r = 0; r < 96; r++) {
      expect(m.coords.data[r]).toBe(node(m.gpuOfRank[r]!));
      expect(m.coords.pipe[r]).toBe(Math.floor((r % 8) / 2));
    }
    const dp = m.groups[COMM.dp]!;
    for (const g of dp.members) expect(nodesOf(g, m.gpuOfRank)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const g of m.groups[COMM.mp]!.members) expect(new Set(nodesOf(g, m.gpuOfRank)).size).toBe(1);
  });

  it('coordinates round-trip and every communicator partitions the ranks', () => {
    for (const order of [['pipe', 'data', 'model'], ['model', 'pipe', 'data'], ['data', 'model', 'pipe']] as const) {
      const m = buildRankMap({ tp: 2, pp: 3, dp: 5, rankOrder: order });
      for (let r = 0; r < m.ranks; r++) expect(rankOf(m, { pipe: m.coords.pipe[r]!, data: m.coords.data[r]!, model: m.coords.model[r]! })).toBe(r);
      for (const [c, size] of [[COMM.tp, 2], [COMM.dp, 5], [COMM.mp, 6]] as const) {
        const seen = new Set<number>();
        for (const g of m.groups[c]!.members) {
          expect(g).toHaveLength(size);
          for (const r of g) seen.add(r);
        }
        expect(seen.size).toBe(30);
        for (let r = 0; r < m.ranks; r++) expect(m.groups[c]!.members[m.groups[c]!.groupOfRank[r]!]).toContain(r);
      }
      // Tied-embedding groups pair stage 0 with the last stage of the same (data, model).
      for (const g of m.groups[COMM.tied]!.members) expect(Array.from(g, (r) => m.coords.pipe[r])).toEqual([0, 2]);
    }
  });
});
