import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph } from '../../src/workload/graph-checks.js';
import { makePlan, type Plan } from '../../src/workload/plan.js';
import { COLLECTIVE, COMM, KIND, PART, viewTask } from '../../src/workload/task-graph.js';

/**
 * Megatron's scatter/gather optimisation (Narayanan et al. SC'21 §4.1): each of the t TP ranks sends 1/t of
 * the boundary tensor to its peer, and the receiving stage all-gathers the pieces over its TP group before
 * the tensor is used — for activations going down and their gradients coming up.
 */
describe('pipeline scatter/gather', () => {
  const cfg = getPreset('neox-small');
  const plan = (fields: Partial<Plan>) => makePlan(cfg, { tp: 4, pp: 2, dp: 1, gradAccumSteps: 4, seqLength: 64, microBatch: 2, p2p: 'async', ...fields });
  const act = 64 * 2 * 256 * 2; // s·b·h fp16 bytes

  for (const schedule of ['1f1b', 'interleaved'] as const) {
    it(`sends 1/TP of each message and all-gathers it on the receiving stage before the compute that uses it (${schedule})`, () => {
      const g = buildTaskGraph(cfg, plan({ ppScatterGather: true, schedule, virtualStages: schedule === 'interleaved' ? 2 : 1 }));
      expect(checkGraph(g)).toEqual([]);
      for (const p of g.programs) {
        let recvs = 0;
        for (let i = 0; i < p.size; i++) {
          const t = viewTask(g, p, i);
          if (t.kind === 'send' || t.kind === 'recv') expect(t.bytes).toBe(act / 4);
          if (t.kind !== 'recv') continue;
          recvs++;
          // The next task is the all-gather of that message on the TP group, and the compute stream waits for it.
          const gather = viewTask(g, p, i + 1);
          expect(gather).toMatchObject({ kind: 'collective', comm: 'tp', collective: 'all-gather', bytes: act, part: t.part, blocksCompute: true, deps: [i] });
          const consumer = Array.from({ length: p.size - i - 2 }, (_, k) => i + 2 + k).find((j) => p.kind[j] === KIND.compute)!;
          expect(viewTask(g, p, consumer).deps).toContain(i + 1);
        }
        expect(recvs).toBeGreaterThan(0);
      }
    });
  }

  it('is off by default, and does nothing without TP', () => {
    const count = (g: ReturnType<typeof buildTaskGraph>) => g.programs.reduce((n, p) => {
      for (let i = 0; i < p.size; i++) if (p.comm[i] === COMM.tp && p.collective[i] === COLLECTIVE['all-gather']) n++;
      return n;
    }, 0);
    expect(count(buildTaskGraph(cfg, plan({})))).toBe(0);
    const noTp = buildTaskGraph(cfg, plan({ tp: 1, ppScatterGather: true }));
    expect(count(noTp)).toBe(0);
    const p = noTp.programs[0]!;
    for (let i = 0; i < p.size; i++) if (p.kind[i] === KIND.send && p.part[i] === PART.activation) expect(p.bytes[i]).toBe(act);
  });
});
