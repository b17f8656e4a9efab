import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { PRESETS } from '../../src/model/presets.js';
import { execute } from '../../src/sim/executor/executor.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph } from '../../src/workload/graph-checks.js';
import { makePlan, validatePlan, type Axis, type Plan } from '../../src/workload/plan.js';

/**
 * Seeded fuzz: small models × PP 1–6 × ZeRO 0–3 × recompute × schedule × rank order (and TP, DP, p2p mode,
 * uneven pipelines, scatter/gather, tied embeddings). Every plan `validatePlan` accepts must build a graph
 * that passes the contract checks and that the executor runs to the end on a real 16-GPU topology.
 */
describe('every valid plan builds, checks clean and executes (seeded fuzz)', () => {
  const machine = clusterMachine(loadCluster('supermicro12', { nodes: 2 }), loadNcclProfile());
  const GPUS = 16;
  let seed = 0x5eed_2026;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = <T,>(xs: readonly T[]) => xs[rnd(xs.length)]!;
  const models = ['neox-tiny', 'neox-tiny3', 'neox-small', 'neox-medium', 'pythia-70m', 'pythia-160m'].map((n) => PRESETS[n]!);
  const orders: (readonly [Axis, Axis, Axis])[] = [
    ['pipe', 'data', 'model'], ['data', 'pipe', 'model'], ['model', 'data', 'pipe'], ['pipe', 'model', 'data'], ['data', 'model', 'pipe'], ['model', 'pipe', 'data'],
  ];
  const cases: { name: string; cfg: (typeof models)[number]; plan: Plan }[] = [];
  let rejected = 0;
  while (cases.length < 48) {
    const cfg = { ...pick(models), tieWordEmbeddings: rnd(4) === 0 };
    const schedule = pick(['1f1b', '1f1b', 'gpipe', 'interleaved'] as const);
    const pp = pick([1, 2, 3, 4, 5, 6]);
    const tp = pick([1, 2, 4]);
    if (tp * pp > GPUS) continue;
    const dp = pick([1, 2, 3, 4].filter((d) => tp * pp * d <= GPUS));
    const v = schedule === 'interleaved' ? pick([2, 3]) : 1;
    const plan = makePlan(cfg, {
      tp, pp, dp, microBatch: pick([1, 2]), gradAccumSteps: schedule === 'interleaved' ? pp * pick([1, 2]) : pick([1, 2, 3, 5]),
      seqLength: pick([16, 64]), zeroStage: pick([0, 1, 2, 3] as const), recompute: pick(['none', 'selective', 'full'] as const),
      schedule, virtualStages: v, rankOrder: pick(orders), overlapComm: rnd(2) === 0,
      p2p: schedule === 'interleaved' ? 'async' : pick(['sync-broadcast', 'async'] as const),
      reduceBucketSize: pick([20_000, 5e8]), allgatherBucketSize: pick([20_000, 5e8]),
      unevenPipeline: rnd(3) > 0, ppScatterGather: rnd(3) === 0,
    });
    try {
      validatePlan(cfg, plan);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      rejected++;
      continue;
    }
    const name = `${cfg.name}${cfg.tieWordEmbeddings ? ' tied' : ''} tp${tp} pp${pp} dp${dp} ${schedule}${v > 1 ? `×${v}` : ''} m${plan.gradAccumSteps} zero${plan.zeroStage} ${plan.recompute} ${plan.rankOrder.join(',')} ${plan.p2p}${plan.ppScatterGather ? ' scatter' : ''}`;
    cases.push({ name, cfg, plan });
  }

  it('the generator covers empty stages, uneven stages and rejected plans', () => {
    const layerCounts = cases.map(({ cfg, plan }) => buildTaskGraph(cfg, plan).chunks.map((c) => c.endLayer - c.firstLayer));
    expect(layerCounts.some((ls) => ls.includes(0))).toBe(true);
    expect(layerCounts.some((ls) => new Set(ls).size > 1 && !ls.includes(0))).toBe(false); // DeepSpeed front-loads: 12 on 5 is 3/3/3/3/0
    expect(cases.filter(({ cfg, plan }) => cfg.numLayers % plan.pp !== 0).length).toBeGreaterThan(3);
    expect(rejected).toBeGreaterThan(0);
  });

  for (const { name, cfg, plan } of cases) {
    it(name, () => {
      const g = buildTaskGraph(cfg, plan);
      expect(checkGraph(g)).toEqual([]);
      const t = execute(g, machine);
      expect(Number.isFinite(t.stepTime) && t.stepTime > 0).toBe(true);
    });
  }
});
