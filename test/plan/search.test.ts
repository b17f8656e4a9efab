import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { DEFAULT_NCCL, loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { enumeratePlans, NEOX_RANK_ORDERS, planKey, type SweepChoices } from '../../src/plan/enumerate.js';
import { type EvalContext, PlanEvaluator } from '../../src/plan/evaluate.js';
import { createPool } from '../../src/plan/pool.js';
import { QuickBounder } from '../../src/plan/quick-bounds.js';
import { searchPlans, type SearchResult } from '../../src/plan/search.js';
import { execute } from '../../src/sim/executor/executor.js';
import { runtimeReserve } from '../../src/sim/memory/runtime-reserve.js';
import { trackRank } from '../../src/sim/memory/tracker.js';
import { defaultRunSettings } from '../../src/sim/run/run-settings.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';

const cfg = getPreset('neox-small');
const cluster = loadCluster('supermicro12', { nodes: 1 });
const machine = clusterMachine(cluster, loadNcclProfile());
const choices: SweepChoices = { rankOrders: NEOX_RANK_ORDERS, tpAcrossNodes: false, unevenPipelines: false, engine: 'any', recompute: ['none', 'full'], zeroStage: [1, 3] };
const enumeration = enumeratePlans({ cfg, gpus: 8, gpusPerNode: 8, globalBatch: 16, base: {}, choices });
// A memory budget that about half of these plans exceed, so that every memory rule gets exercised. Each
// GPU's runtime reserve (CUDA context, cuBLAS, NCCL buffers: 3.0-3.9 GB here) is most of every peak.
const capacityBytes = 4.0e9;
const ctx: EvalContext = { cfg, cluster: { name: 'supermicro12', overrides: { nodes: 1 } }, nccl: DEFAULT_NCCL, settings: defaultRunSettings(), capacityBytes };

async function search(workers: number, top = 5): Promise<SearchResult> {
  const pool = createPool(ctx, workers);
  try {
    return await searchPlans(enumeration, new QuickBounder(cfg, machine), pool, { top, capacityBytes });
  } finally {
    await pool.close();
  }
}

/** The simulated peak of the fullest GPU, runtime reserve included. */
function peak(plan: (typeof enumeration.plans)[number]): { bytes: number; step: number } {
  const graph = buildTaskGraph(cfg, plan);
  const step = execute(graph, machine);
  const reserve = runtimeReserve(graph, machine);
  let bytes = 0;
  for (let r = 0; r < step.graph.ranks; r++) bytes = Math.max(bytes, trackRank(step, r, false, reserve.bytes[r]).peak.peakBytes);
  return { bytes, step: step.stepTime };
}

describe('plan search (neox-small on 8 GPUs, ZeRO 1/3, no/full recompute, memory budget 4 GB)', () => {
  it('every plan dropped for memory before simulation does exceed the budget when simulated', async () => {
    const r = await search(0);
    const early = r.dropped.filter((d) => d.stage !== 'simulated peak');
    expect(r.counts.droppedForMemory['quick bound']).toBeGreaterThan(0);
    expect(early.length).toBeGreaterThan(10);
    const byKey = new Map(enumeration.plans.map((p) => [planKey(p), p]));
    for (const d of early) {
      const p = peak(byKey.get(d.key)!);
      expect(p.bytes).toBeGreaterThan(capacityBytes);
      expect(d.bytes).toBeLessThanOrEqual(p.bytes * (1 + 1e-12));
      expect(d.reason).toMatch(/^needs ≥ \d+\.\d GB > 4\.0 GB on stage \d.* \+ runtime reserve \d+\.\d GB/);
    }
  });

  it('finds the same top plans as simulating every plan that fits (pruning is exact)', async () => {
    const r = await search(0);
    const all = enumeration.plans.map((p) => ({ key: planKey(p), ...peak(p) })).filter((x) => x.bytes <= capacityBytes);
    all.sort((a, b) => a.step - b.step || (a.key < b.key ? -1 : 1));
    expect(r.ranked.slice(0, 5).map((s) => [s.key, s.stepSeconds])).toEqual(all.slice(0, 5).map((x) => [x.key, x.step]));
    expect(r.counts.simulated).toBeLessThan(all.length);
    expect(r.counts.prunedByQuickBound + r.counts.prunedByGraphFloor).toBeGreaterThan(0);
    // Every plan is accounted for exactly once.
    const m = r.counts.droppedForMemory;
    expect(m['quick bound'] + m['graph floor'] + r.counts.prunedByQuickBound + r.counts.prunedByGraphFloor + r.counts.simulated).toBe(enumeration.plans.length);
  });

  it('gives the same answer in this thread, with one worker and with two', async () => {
    // Which plans were summarized along the way depends on timing; the answer, and the top plans' summaries, do not.
    const strip = (r: SearchResult) => JSON.stringify(r, (k, v) => (k === 'wallSeconds' || k === 'summary' ? undefined : v));
    const [inline, one, two] = [await search(0), await search(1), await search(2)];
    for (const r of [inline, one, two]) expect(r.ranked.slice(0, 5).every((s) => s.summary)).toBe(true);
    expect(strip(one)).toBe(strip(inline));
    expect(strip(two)).toBe(strip(inline));
  });

  it('an idle worker takes a job waiting for a busy one (it rebuilds the graph) and gets the same result', async () => {
    const plans = enumeration.plans.slice(0, 2);
    const inline = createPool(ctx, 0);
    const pool = createPool(ctx, 2);
    try {
      const jobs = plans.map((plan) => ({ plan, threshold: Infinity, worker: 0 }));
      const [mine, theirs] = [await pool.run(jobs), await inline.run(jobs)];
      expect(mine.map((r) => r.worker)).toEqual([0, 1]);
      const strip = (r: (typeof mine)[number]) => ({ ...r, worker: undefined, wallSeconds: undefined });
      expect(mine.map(strip)).toEqual(theirs.map(strip));
    } finally {
      await Promise.all([pool.close(), inline.close()]);
    }
  });

  it('the evaluator drops, prunes or simulates a plan by its task graph\'s floors', () => {
    const ev = new PlanEvaluator(ctx);
    const byKey = (k: string) => enumeration.plans.find((p) => planKey(p) === k)!;
    const small = byKey('tp4 pp2 dp1 mbs1 gas16 zero1 full 1f1b pipe,data,model');
    const big = byKey('tp1 pp4 dp2 mbs8 gas1 zero3 none 1f1b pipe,data,model');
    expect(ev.evaluate({ plan: big, threshold: Infinity }).kind).toBe('memory');
    const sim = ev.evaluate({ plan: small, threshold: Infinity, summary: true });
    expect(sim.kind).toBe('simulated');
    if (sim.kind !== 'simulated') return;
    expect(sim.summary!.step.seconds).toBe(sim.stepSeconds);
    expect(ev.evaluate({ plan: small, threshold: sim.stepSeconds * 0.5 }).kind).toBe('pruned');
  });
});
