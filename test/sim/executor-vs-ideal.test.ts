import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { execute } from '../../src/sim/executor/executor.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph, idealSchedule } from '../../src/workload/graph-checks.js';
import { makePlan, validatePlan, type Plan } from '../../src/workload/plan.js';
import { KIND, type TaskGraph } from '../../src/workload/task-graph.js';
import { InputError } from '../../src/common/errors.js';

/**
 * The executor against the workload's own reference scheduler (`idealSchedule`, written independently):
 * with free communication every task must start exactly when the reference says, on every rank, for seeded
 * random plans — schedules, ZeRO stages, recompute modes, rank orders, p2p modes.
 */
describe('executor vs the workload reference schedule (free communication, seeded random plans)', () => {
  const cluster = loadCluster('supermicro12', { nodes: 2 });
  const machine = clusterMachine(cluster, loadNcclProfile());
  let seed = 20_261_126;
  const rnd = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
  const pick = <T,>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  // Plans the workload accepts and whose graph passes the workload's own checks (the executor is under test here).
  const plans: { cfg: ReturnType<typeof getPreset>; plan: Plan; graph: TaskGraph }[] = [];
  while (plans.length < 12) {
    const cfg = getPreset(pick(['pythia-160m', 'neox-small', 'pythia-410m', 'neox-medium']));
    const tp = pick([1, 2, 4]);
    const pp = pick([1, 2, 4]);
    const schedule = pick(['1f1b', '1f1b', 'gpipe', 'interleaved'] as const);
    const fields: Partial<Plan> = {
      tp, pp, dp: cluster.gpuCount / (tp * pp), microBatch: pick([1, 2]), gradAccumSteps: pick([1, 2, 4, 8]),
      zeroStage: pick([0, 1, 2, 3] as const), recompute: pick(['none', 'full', 'selective'] as const), schedule,
      rankOrder: pick([['pipe', 'data', 'model'], ['data', 'pipe', 'model'], ['model', 'data', 'pipe']] as const) as Plan['rankOrder'],
      overlapComm: rnd() < 0.5, seqLength: 128, reduceBucketSize: pick([5e8, 2e6]), allgatherBucketSize: pick([5e8, 2e6]),
      p2p: rnd() < 0.3 ? 'async' : 'sync-broadcast',
    };
    if (schedule === 'interleaved') Object.assign(fields, { virtualStages: 2, p2p: 'async' });
    try {
      const plan = makePlan(cfg, fields);
      validatePlan(cfg, plan, { gpus: cluster.gpuCount });
      const graph = buildTaskGraph(cfg, plan);
      if (checkGraph(graph).length === 0) plans.push({ cfg, plan, graph });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
    }
  }

  for (const { cfg, plan, graph: g } of plans) {
    const name = `${cfg.name} TP ${plan.tp} PP ${plan.pp} DP ${plan.dp} ${plan.schedule} GAS ${plan.gradAccumSteps} ZeRO ${plan.zeroStage} ${plan.recompute} ${plan.rankOrder.join(',')} ${plan.p2p}`;
    it(name, () => {
      // Distinct, irregular durations per op sequence so that any ordering mistake shows.
      const seconds = g.opSeqs.map((_, i) => 1e-3 * (1 + ((i * 7919) % 13)));
      const t = execute(g, machine, { freeComm: true, computeSeconds: (_seq, i) => seconds[i]! });
      const ref = idealSchedule(g, (p, i) => (p.kind[i] === KIND.compute ? seconds[p.opSeq[i]!]! : 0));
      expect(ref.unfinished).toBe(0);
      expect(t.stepTime).toBeCloseTo(ref.makespan, 12);
      for (let r = 0; r < g.ranks; r++) {
        const pi = g.programOfRank[r]!;
        const mine = t.start[r]!;
        const theirs = ref.start[pi]!;
        for (let i = 0; i < mine.length; i++) {
          if (Math.abs(mine[i]! - theirs[i]!) > 1e-12) throw new Error(`rank ${r} task ${i} (${g.labels[g.programs[pi]!.label[i]!]}): executor ${mine[i]} vs reference ${theirs[i]}`);
        }
      }
    });
  }
});
