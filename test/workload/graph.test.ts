import { describe, expect, it } from 'vitest';
import { getPreset, PRESETS } from '../../src/model/presets.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph, idealSchedule } from '../../src/workload/graph-checks.js';
import { makePlan, validatePlan, type Axis, type Plan } from '../../src/workload/plan.js';
import {
  COLLECTIVE, COMM, KIND, PART, PHASE, commMembers, peerRank, taskCount, viewTask, type RankProgram, type TaskGraph,
} from '../../src/workload/task-graph.js';
import { memoryPeak } from './helpers/memory.js';

const neox20b = getPreset('neox-20b');
const plan20b = (fields: Partial<Plan> = {}) =>
  makePlan(neox20b, { tp: 2, pp: 4, dp: 12, microBatch: 4, gradAccumSteps: 32, zeroStage: 1, recompute: 'full', reduceBucketSize: 1.26e9, allgatherBucketSize: 1.26e9, overlapComm: true, ...fields });
const g20b = buildTaskGraph(neox20b, plan20b());

function count(p: RankProgram, pred: (i: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < p.size; i++) if (pred(i)) n++;
  return n;
}
const tpAllReduces = (p: RankProgram, part: number) => count(p, (i) => p.comm[i] === COMM.tp && p.collective[i] === COLLECTIVE['all-reduce'] && p.part[i] === part);
const p2p = (p: RankProgram, kind: number, part: number) => count(p, (i) => p.kind[i] === kind && p.part[i] === part);
const dpColl = (p: RankProgram, coll: keyof typeof COLLECTIVE) => count(p, (i) => p.comm[i] === COMM.dp && p.collective[i] === COLLECTIVE[coll]);

describe('the 20B plan (TP 2, PP 4, DP 12, micro-batch 4, GAS 32, ZeRO 1, full recompute)', () => {
  it('has 1408 layer TP all-reduces per GPU per step (11 layers × 32 micro-batches × 4), each s·b·h·2 = 96 MiB', () => {
    for (const p of g20b.programs) {
      expect(tpAllReduces(p, PART.layer)).toBe(1408);
      for (let i = 0; i < p.size; i++) if (p.comm[i] === COMM.tp && p.part[i] === PART.layer) expect(p.bytes[i]).toBe(100_663_296);
      // 1 forward, 1 recompute, 2 backward per layer per micro-batch.
      const byPhase = [PHASE.forward, PHASE.recompute, PHASE.backward].map((ph) => count(p, (i) => p.comm[i] === COMM.tp && p.part[i] === PART.layer && p.phase[i] === ph));
      expect(byPhase).toEqual([352, 352, 704]);
    }
  });

  it('adds the embedding forward all-reduce on stage 0 and the output-layer backward plus three fp32 loss all-reduces on stage 3', () => {
    const [s0, , , s3] = g20b.programs;
    expect(tpAllReduces(s0!, PART.embedding)).toBe(32);
    expect(tpAllReduces(s3!, PART.head)).toBe(128);
    const fp32 = count(s3!, (i) => s3!.comm[i] === COMM.tp && s3!.part[i] === PART.head && s3!.bytes[i] === 4 * 2048 * 4);
    expect(fp32).toBe(96);
  });

  it('sends activations (96 MiB) and the 4 MiB attention mask down, gradients up, 32 of each per boundary', () => {
    const [s0, s1, , s3] = g20b.programs;
    const mib = 1 << 20;
    expect([p2p(s0!, KIND.send, PART.activation), p2p(s0!, KIND.send, PART['attention-mask']), p2p(s0!, KIND.recv, PART['activation-grad'])]).toEqual([32, 32, 32]);
    expect([p2p(s0!, KIND.recv, PART.activation), p2p(s0!, KIND.send, PART['activation-grad'])]).toEqual([0, 0]);
    for (const part of [PART.activation, PART['attention-mask'], PART['activation-grad']]) {
      expect([p2p(s1!, KIND.send, part), p2p(s1!, KIND.recv, part)]).toEqual([32, 32]);
    }
    expect([p2p(s3!, KIND.send, PART.activation), p2p(s3!, KIND.recv, PART.activation), p2p(s3!, KIND.send, PART['activation-grad'])]).toEqual([0, 32, 32]);
    const sizes = new Set(Array.from({ length: s1!.size }, (_, i) => i).filter((i) => s1!.kind[i] === KIND.send).map((i) => s1!.bytes[i]));
    expect(sizes).toEqual(new Set([96 * mib, 4 * mib]));
  });

  it('synchronous broadcast P2P blocks the compute stream on both sides', () => {
    const s1 = g20b.programs[1]!;
    for (let i = 0; i < s1.size; i++) if (s1.kind[i] === KIND.send || s1.kind[i] === KIND.recv) expect(s1.blocksCompute[i]).toBe(1);
  });

  it('ZeRO-1 at the GAS boundary: per stage 3 reduce-scatters and 3 all-gathers (2 intervals of the weight-decay group, 1 of the rest)', () => {
    for (const p of g20b.programs) {
      expect(dpColl(p, 'reduce-scatter')).toBe(3);
      expect(dpColl(p, 'all-gather')).toBe(3);
      const rs = Array.from({ length: p.size }, (_, i) => i).filter((i) => p.comm[i] === COMM.dp && p.collective[i] === COLLECTIVE['reduce-scatter']);
      // best_max_elems_per_comm grows the 1.26e9 interval to 1,370,264,320 (stage 0) → 114,188,693 elements per rank.
      if (p.pipe === 0) expect(p.bytes[rs[0]!]).toBe(114_188_693 * 12 * 2);
      for (const i of rs) expect(p.phase[i]).toBe(PHASE.step);
    }
    // Overflow flag over the world, gradient norm over the model-parallel slice (TP × PP = 8 ranks), once per group.
    const s0 = g20b.programs[0]!;
    expect(count(s0, (i) => s0.comm[i] === COMM.world)).toBe(1);
    expect(count(s0, (i) => s0.comm[i] === COMM.mp)).toBe(2);
    expect(commMembers(g20b, 0, COMM.mp)).toHaveLength(8);
  });

  it('passes every contract check: backward deps, complete collectives, matched sends, no deadlock', () => {
    expect(checkGraph(g20b)).toEqual([]);
    expect(taskCount(g20b)).toBe(24 * (g20b.programs[0]!.size + g20b.programs[1]!.size + g20b.programs[2]!.size + g20b.programs[3]!.size));
  });

  it('TP and DP peers share one program; pipeline peers are the neighbouring stage', () => {
    for (let r = 0; r < 96; r++) {
      for (const m of commMembers(g20b, r, COMM.tp)) expect(g20b.programOfRank[m]).toBe(g20b.programOfRank[r]);
      for (const m of commMembers(g20b, r, COMM.dp)) expect(g20b.programOfRank[m]).toBe(g20b.programOfRank[r]);
      expect(g20b.coords.pipe[peerRank(g20b, r, 1)]).toBe((g20b.coords.pipe[r]! + 1) % 4);
    }
  });

  it('describes compute tasks for an executor: phase, stage, micro-batch, layer and the model ops', () => {
    const s1 = g20b.programs[1]!;
    const i = Array.from({ length: s1.size }, (_, k) => k).find((k) => s1.phase[k] === PHASE.recompute && s1.kind[k] === KIND.compute)!;
    const v = viewTask(g20b, s1, i);
    expect(v).toMatchObject({ kind: 'compute', stream: 'compute', phase: 'recompute', part: 'layer', vstage: 1, layerEnd: v.layerStart + 1 });
    expect(v.layerStart).toBeGreaterThanOrEqual(11);
    expect(v.opSeq!.ops[0]!.name).toBe('input_layernorm');
    expect(v.opSeq!.ops.every((o) => o.phase === 'recompute')).toBe(true);
  });
});

describe('ZeRO stages and gradient sync', () => {
  it('ZeRO 0 without overlap all-reduces buffers of more than 5e8 elements at the boundary, covering every parameter once', () => {
    const g = buildTaskGraph(neox20b, plan20b({ zeroStage: 0, overlapComm: false }));
    for (const p of g.programs) {
      const ar = Array.from({ length: p.size }, (_, i) => i).filter((i) => p.comm[i] === COMM.dp);
      expect(ar.reduce((a, i) => a + p.bytes[i]!, 0)).toBe(2 * p.paramsPerRank);
      for (const i of ar.slice(0, -1)) expect(p.bytes[i]!).toBeGreaterThan(2 * 5e8);
      for (const i of ar) expect([p.phase[i], p.blocksCompute[i]]).toEqual([PHASE.step, 1]);
    }
  });

  it('ZeRO 0 with overlap all-reduces buckets during the last micro-batch backward, off the compute stream', () => {
    const g = buildTaskGraph(neox20b, plan20b({ zeroStage: 0, overlapComm: true }));
    for (const p of g.programs) {
      const ar = Array.from({ length: p.size }, (_, i) => i).filter((i) => p.comm[i] === COMM.dp && p.part[i] === PART['grad-reduce']);
      expect(ar.length).toBeGreaterThan(1);
      for (const i of ar) expect([p.phase[i], p.microBatch[i], p.blocksCompute[i]]).toEqual([PHASE.backward, 31, 0]);
      expect(ar.reduce((a, i) => a + p.bytes[i]!, 0)).toBe(2 * p.paramsPerRank);
    }
    expect(checkGraph(g)).toEqual([]);
  });

  it('ZeRO 2 reduce-scatters every micro-batch (gradients are partitioned) and all-gathers after the step', () => {
    const g = buildTaskGraph(neox20b, plan20b({ zeroStage: 2 }));
    for (const p of g.programs) {
      const rs = dpColl(p, 'reduce-scatter');
      expect(rs % 32).toBe(0);
      expect(rs).toBeGreaterThan(32);
      expect(dpColl(p, 'all-gather')).toBe(Math.ceil((p.shardParams * 12) / 1.26e9));
    }
    expect(checkGraph(g)).toEqual([]);
  });

  it('ZeRO 3 gathers each part before its forward and before its recompute + backward, and reduce-scatters its gradient', () => {
    const g = buildTaskGraph(neox20b, plan20b({ zeroStage: 3 }));
    const s1 = g.programs[1]!;
    expect(dpColl(s1, 'all-gather')).toBe(11 * 32 * 2);
    expect(dpColl(s1, 'reduce-scatter')).toBe(11 * 32);
    expect(g.programs[0]!.staticMemory.reduce((a, b) => a + b, 0)).toBeLessThan(5e9);
    expect(checkGraph(g)).toEqual([]);
  });
});

describe('any valid plan builds a consistent graph (seeded fuzz over small models)', () => {
  // Deterministic xorshift so every run checks the same plans.
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = <T,>(xs: readonly T[]) => xs[rnd(xs.length)]!;
  const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
  const models = ['neox-tiny', 'neox-tiny3', 'neox-small', 'neox-medium', 'pythia-70m'].map((n) => PRESETS[n]!);
  const orders: (readonly [Axis, Axis, Axis])[] = [['pipe', 'data', 'model'], ['data', 'pipe', 'model'], ['model', 'data', 'pipe']];
  let built = 0;
  for (let k = 0; built < 40 && k < 400; k++) {
    const cfg = { ...pick(models), tieWordEmbeddings: rnd(4) === 0 };
    const schedule = pick(['1f1b', 'gpipe', 'interleaved'] as const);
    const pp = schedule === 'interleaved' ? pick([2, 3]) : pick([1, 2, 3]);
    const v = schedule === 'interleaved' ? pick([2, 3]) : 1;
    const plan = makePlan(cfg, {
      tp: pick(divisors(cfg.numHeads).filter((t) => t <= 4)), pp, dp: pick([1, 2, 3]), microBatch: pick([1, 2]),
      gradAccumSteps: schedule === 'interleaved' ? pp * pick([1, 2]) : pick([1, 2, 5]), zeroStage: pick([0, 1, 2, 3] as const),
      recompute: pick(['none', 'selective', 'full'] as const), schedule, virtualStages: v, rankOrder: pick(orders),
      overlapComm: rnd(2) === 0, p2p: schedule === 'interleaved' ? 'async' : pick(['sync-broadcast', 'async'] as const),
      reduceBucketSize: pick([20_000, 3e6, 5e8]), allgatherBucketSize: pick([20_000, 5e8]), hiddenDropout: pick([0, 0.1]), attentionDropout: pick([0, 0.1]),
    });
    try {
      validatePlan(cfg, plan);
    } catch {
      continue;
    }
    built++;
    it(`${cfg.name}${cfg.tieWordEmbeddings ? ' (tied)' : ''} tp${plan.tp} pp${plan.pp} dp${plan.dp} ${plan.schedule}${v > 1 ? `×${v}` : ''} m${plan.gradAccumSteps} zero${plan.zeroStage} ${plan.recompute} ${plan.p2p}${plan.overlapComm ? ' overlap' : ''}`, () => {
      const g = buildTaskGraph(cfg, plan);
      expect(checkGraph(g)).toEqual([]);
      expectEveryAllocationFreed(g);
      expectEveryChunkPassOnce(g);
    });
  }
});

function expectEveryAllocationFreed(g: TaskGraph): void {
  const s = idealSchedule(g, (p, i) => (p.kind[i] === KIND.compute ? 1 : 0.5));
  g.programs.forEach((p, pi) => {
    const m = memoryPeak(p, s.start[pi]!, s.finish[pi]!);
    expect(m.final).toBeCloseTo(p.staticMemory.reduce((a, b) => a + b, 0), 0);
    expect(Object.values(m.maxOf).every((b) => b >= 0)).toBe(true);
  });
}

function expectEveryChunkPassOnce(g: TaskGraph): void {
  const layersSeen = new Map<string, number>();
  for (const p of g.programs) {
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] !== KIND.compute || p.part[i] !== PART.layer || p.phase[i] === PHASE.step) continue;
      const k = `${p.layerStart[i]}/${p.microBatch[i]}/${p.phase[i]}/${p.opSeq[i]}`;
      layersSeen.set(k, (layersSeen.get(k) ?? 0) + 1);
    }
  }
  expect([...layersSeen.values()].every((n) => n === 1)).toBe(true);
}

describe('determinism', () => {
  it('builds byte-identical graphs from the same inputs', () => {
    const a = buildTaskGraph(neox20b, plan20b({ schedule: 'interleaved', virtualStages: 11, p2p: 'async' }));
    const b = buildTaskGraph(neox20b, plan20b({ schedule: 'interleaved', virtualStages: 11, p2p: 'async' }));
    const bytes = (g: TaskGraph) => JSON.stringify(g, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v));
    expect(bytes(a)).toBe(bytes(b));
  });

  it('the rank order changes the communicators, not the programs', () => {
    const a = buildTaskGraph(neox20b, plan20b());
    const b = buildTaskGraph(neox20b, plan20b({ rankOrder: ['data', 'pipe', 'model'] }));
    expect(b.programs.map((p) => p.size)).toEqual(a.programs.map((p) => p.size));
    expect(Array.from(b.groups[COMM.dp]!.members[0]!)).toEqual([0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88]);
    expect(checkGraph(b)).toEqual([]);
  });
});

describe('the graph checks catch broken graphs', () => {
  const cfg = getPreset('neox-tiny3');
  const fresh = () => buildTaskGraph(cfg, makePlan(cfg, { tp: 2, pp: 3, dp: 2, gradAccumSteps: 4, zeroStage: 1 }));
  const find = (p: RankProgram, kind: number, part: number, mb: number) =>
    Array.from({ length: p.size }, (_, i) => i).find((i) => p.kind[i] === kind && p.part[i] === part && p.microBatch[i] === mb)!;

  it('a send whose recv disagrees on size', () => {
    const g = fresh();
    g.programs[0]!.bytes[find(g.programs[0]!, KIND.send, PART.activation, 0)] = 1;
    expect(checkGraph(g).join('\n')).toMatch(/activation\/0>1\/mb0: send and recv disagree on size or partner/);
  });

  it('a recv nobody sends', () => {
    const g = fresh();
    const p = g.programs[1]!;
    p.key[find(p, KIND.recv, PART.activation, 2)] = g.keys.push('activation/nowhere') - 1;
    expect(checkGraph(g).join('\n')).toMatch(/activation\/nowhere: stage 1 has no matching send on stage 0/);
  });

  it('a collective missing on a member stage', () => {
    const g = fresh();
    const p = g.programs[2]!;
    const i = Array.from({ length: p.size }, (_, k) => k).find((k) => p.comm[k] === COMM.world)!;
    p.key[i] = g.keys.push('step/elsewhere') - 1;
    expect(checkGraph(g).join('\n')).toMatch(/step\/overflow\/world: missing on stage 2/);
  });

  it('receives posted in the wrong order deadlock synchronous broadcasts', () => {
    const g = fresh();
    const p = g.programs[1]!;
    const a = find(p, KIND.recv, PART.activation, 0);
    const b = find(p, KIND.recv, PART.activation, 1);
    [p.key[a], p.key[b]] = [p.key[b]!, p.key[a]!];
    expect(checkGraph(g).join('\n')).toMatch(/deadlock: \d+ tasks can never start/);
  });
});
