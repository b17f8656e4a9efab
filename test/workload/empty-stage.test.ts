import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { execute } from '../../src/sim/executor/executor.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph } from '../../src/workload/graph-checks.js';
import { makePlan, type Plan } from '../../src/workload/plan.js';
import { COMM, KIND, PART, type RankProgram } from '../../src/workload/task-graph.js';

/**
 * Regressions: DeepSpeed's partition_balanced cuts the 6 layers of pythia-70m / neox-medium over 4 stages
 * as 2/2/2/0 — the last stage holds nothing (the head sits on stage 2). That stage must still join every
 * step-level collective, and its empty passes must hand their input on instead of pointing at no task.
 */
const machine = clusterMachine(loadCluster('supermicro12', { nodes: 1 }), loadNcclProfile());

const keysOf = (g: ReturnType<typeof buildTaskGraph>, p: RankProgram, comm: number) => {
  const out: string[] = [];
  for (let i = 0; i < p.size; i++) if (p.kind[i] === KIND.collective && p.comm[i] === comm) out.push(g.keys[p.key[i]!]!);
  return out;
};

describe('a pipeline stage without layers (uneven DeepSpeed partition)', () => {
  for (const model of ['pythia-70m', 'neox-medium']) {
    for (const zeroStage of [0, 1, 2, 3] as const) {
      for (const p2p of ['sync-broadcast', 'async'] as const) {
        it(`${model}, PP 4, ZeRO ${zeroStage}, ${p2p}: graph checks pass and the executor finishes`, () => {
          const cfg = getPreset(model);
          const plan = makePlan(cfg, { pp: 4, dp: 2, gradAccumSteps: 4, zeroStage, p2p, seqLength: 64, recompute: 'full', unevenPipeline: true });
          const g = buildTaskGraph(cfg, plan);
          expect(g.chunks.map((c) => c.endLayer - c.firstLayer)).toEqual([2, 2, 2, 0]);
          expect(g.programs[3]!.paramsPerRank).toBe(0);
          expect(checkGraph(g)).toEqual([]);
          // The empty stage runs the same model-parallel (grad-norm) and world collectives as every other stage.
          for (const comm of [COMM.mp, COMM.world]) {
            const want = keysOf(g, g.programs[0]!, comm);
            for (const p of g.programs) expect(keysOf(g, p, comm)).toEqual(want);
          }
          expect(keysOf(g, g.programs[3]!, COMM.mp).filter((k) => k.includes('grad-norm'))).toHaveLength(2);
          const t = execute(g, machine);
          expect(Number.isFinite(t.stepTime)).toBe(true);
          expect(t.stepTime).toBeGreaterThan(0);
        });
      }
    }
  }

  it('pythia-70m, PP 4, ZeRO 3 builds (it threw "task 1 depends on -1") and its empty stage only relays', () => {
    const cfg = getPreset('pythia-70m');
    for (const fields of [{ p2p: 'async' }, { p2p: 'async', schedule: 'gpipe' }, { tp: 2, p2p: 'sync-broadcast' }] as Partial<Plan>[]) {
      const plan = makePlan(cfg, { pp: 4, gradAccumSteps: 4, zeroStage: 3, seqLength: 64, unevenPipeline: true, ...fields });
      const g = buildTaskGraph(cfg, plan);
      expect(checkGraph(g)).toEqual([]);
      const last = g.programs[3]!;
      let layerOrHead = 0;
      for (let i = 0; i < last.size; i++) if (last.part[i] === PART.layer || last.part[i] === PART.head) layerOrHead++;
      expect(layerOrHead).toBe(0);
      // Every micro-batch's activation arrives and its gradient leaves again.
      let recvs = 0;
      let sends = 0;
      for (let i = 0; i < last.size; i++) {
        if (last.kind[i] === KIND.recv && last.part[i] === PART.activation) recvs++;
        if (last.kind[i] === KIND.send && last.part[i] === PART['activation-grad']) sends++;
      }
      expect([recvs, sends]).toEqual([4, 4]);
      expect(Number.isFinite(execute(g, machine).stepTime)).toBe(true);
    }
  });

  it('a tied model sums its embedding gradients between the embedding stage and the head stage (2 here, not the empty last)', () => {
    const cfg = { ...getPreset('pythia-70m'), tieWordEmbeddings: true };
    const g = buildTaskGraph(cfg, makePlan(cfg, { pp: 4, dp: 2, gradAccumSteps: 2, zeroStage: 1, seqLength: 64, unevenPipeline: true }));
    expect(checkGraph(g)).toEqual([]);
    for (const members of g.groups[COMM.tied]!.members) expect(Array.from(members, (r) => g.coords.pipe[r])).toEqual([0, 2]);
    const tiedTasks = g.programs.map((p) => keysOf(g, p, COMM.tied));
    expect(tiedTasks).toEqual([['step/tied-grads'], [], ['step/tied-grads'], []]);
    // Stage 2 holds the head's copy of the embedding: 50,304 × 512 elements plus its layers and final norm.
    expect(g.programs[2]!.paramsPerRank - g.programs[1]!.paramsPerRank).toBe(50_304 * 512 + 2 * 512);
    expect(Number.isFinite(execute(g, machine).stepTime)).toBe(true);
  });
});
