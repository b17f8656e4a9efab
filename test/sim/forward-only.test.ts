import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { forwardOnlyGraph } from '../../src/sim/run/forward-only.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph, idealSchedule } from '../../src/workload/graph-checks.js';
import { makePlan, type Plan } from '../../src/workload/plan.js';
import { KIND, PART, PHASE } from '../../src/workload/task-graph.js';

describe('evaluation graph: the forward-only projection of a training step', () => {
  const cfg = getPreset('neox-small');
  const plans: Partial<Plan>[] = [
    { tp: 2, pp: 4, dp: 2, microBatch: 2, gradAccumSteps: 8, zeroStage: 1, recompute: 'full' },
    { tp: 1, pp: 2, dp: 4, microBatch: 1, gradAccumSteps: 4, zeroStage: 2, recompute: 'none', p2p: 'async' },
    { tp: 2, pp: 2, dp: 4, microBatch: 1, gradAccumSteps: 4, zeroStage: 1, recompute: 'full', schedule: 'interleaved', virtualStages: 2, p2p: 'async' },
  ];
  for (const fields of plans) {
    const plan = makePlan(cfg, fields);
    it(`${plan.schedule}, TP ${plan.tp} PP ${plan.pp}, ZeRO ${plan.zeroStage}, ${plan.p2p}`, () => {
      const train = buildTaskGraph(cfg, plan);
      const g = forwardOnlyGraph(train);
      expect(checkGraph(g)).toEqual([]);
      for (const [pi, p] of g.programs.entries()) {
        const t = train.programs[pi]!;
        let forward = 0;
        for (let i = 0; i < t.size; i++) if (t.phase[i] === PHASE.forward) forward++;
        expect(p.size).toBe(forward);
        expect(p.memory.count).toBe(0);
        for (let i = 0; i < p.size; i++) {
          expect(p.phase[i]).toBe(PHASE.forward);
          expect([PART['grad-reduce'], PART.optimizer, PART['param-gather']]).not.toContain(p.part[i]);
        }
        // Every micro-batch's forward is still there, with its loss on the last stage.
        const mbs = new Set<number>();
        for (let i = 0; i < p.size; i++) if (p.kind[i] === KIND.compute) mbs.add(p.microBatch[i]!);
        expect(mbs.size).toBe(plan.gradAccumSteps);
      }
      // With unit compute times the forward-only pipeline is shorter than the training step.
      const unit = (p: (typeof g.programs)[number], i: number) => (p.kind[i] === KIND.compute ? 1 : 0);
      expect(idealSchedule(g, unit).makespan).toBeLessThan(idealSchedule(train, unit).makespan);
    });
  }
});
