import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { stepBreakdown } from '../../src/sim/breakdown/breakdown.js';
import { execute } from '../../src/sim/executor/executor.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { makePlan } from '../../src/workload/plan.js';
import { KIND, PART, PHASE, type TaskGraph } from '../../src/workload/task-graph.js';

/** Per transformer layer and micro-batch: forward 1 s, recompute 1 s, backward 2 s. */
const PASS_SECONDS = [1, 1, 2];

/**
 * Compute seconds for the textbook pipeline: every layer pass costs PASS_SECONDS of its phase, split evenly
 * over the compute tasks the builder cuts it into (at TP all-reduces); everything else (embedding, head,
 * optimizer) is free, so every stage does the same work.
 */
function layerSeconds(g: TaskGraph): (seq: unknown, index: number) => number {
  const tasks = new Map<string, number>();
  const seqPhase = new Map<number, number>();
  for (const p of g.programs) {
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] !== KIND.compute) continue;
      if (p.part[i] !== PART.layer) {
        seqPhase.set(p.opSeq[i]!, -1);
        continue;
      }
      const pass = `${p.pipe}/${p.microBatch[i]}/${p.layerStart[i]}/${p.phase[i]}`;
      tasks.set(pass, (tasks.get(pass) ?? 0) + 1);
      seqPhase.set(p.opSeq[i]!, p.phase[i]!);
    }
  }
  const perPhase = new Map<number, number>();
  for (const [pass, n] of tasks) {
    const phase = Number(pass.split('/')[3]);
    const prev = perPhase.get(phase);
    if (prev !== undefined && prev !== n) throw new Error('layer passes of one phase are cut into different task counts');
    perPhase.set(phase, n);
  }
  return (_seq, index) => {
    const ph = seqPhase.get(index) ?? -1;
    return ph < 0 || ph > PHASE.backward ? 0 : PASS_SECONDS[ph]! / perPhase.get(ph)!;
  };
}

describe('1F1B pipeline with free communication', () => {
  const machine = clusterMachine(loadCluster('supermicro12', { nodes: 1 }), loadNcclProfile());
  const cfg = { ...getPreset('neox-medium'), numLayers: 8 };
  for (const [tp, pp, m] of [[1, 2, 4], [1, 4, 8], [2, 4, 8], [1, 8, 8], [1, 4, 1], [2, 2, 16]] as const) {
    it(`the bubble is (p−1)/(m+p−1) of the step on every stage: TP ${tp}, p = ${pp}, m = ${m}`, () => {
      const plan = makePlan(cfg, { tp, pp, dp: 8 / (tp * pp), microBatch: 1, gradAccumSteps: m, recompute: 'full', zeroStage: 1 });
      const graph = buildTaskGraph(cfg, plan);
      const t = execute(graph, machine, { freeComm: true, computeSeconds: layerSeconds(graph) });
      const perMicroBatch = (cfg.numLayers / pp) * (PASS_SECONDS[0]! + PASS_SECONDS[1]! + PASS_SECONDS[2]!);
      // Passes cut into 3 tasks cost thirds: equal up to rounding.
      expect(t.stepTime).toBeCloseTo((m + pp - 1) * perMicroBatch, 9);
      for (const s of stepBreakdown(t).stages) {
        expect(s.mean.bubble / t.stepTime).toBeCloseTo((pp - 1) / (m + pp - 1), 12);
        expect(s.mean.bubble).toBeCloseTo((pp - 1) * perMicroBatch, 9);
        expect(s.mean.exposedTp + s.mean.exposedPp + s.mean.exposedDp).toBe(0);
        expect(s.mean.forward + s.mean.recompute + s.mean.backward).toBeCloseTo(m * perMicroBatch, 9);
      }
    });
  }
});
