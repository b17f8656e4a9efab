import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { DEFAULT_NCCL, loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { modelInputs } from '../../src/plan/inputs.js';
import { PlanEvaluator } from '../../src/plan/evaluate.js';
import { memoryVerdictText, quickMemoryText } from '../../src/plan/memory-text.js';
import { QuickBounder } from '../../src/plan/quick-bounds.js';
import { graphMemoryFloors } from '../../src/sim/bounds/memory-floor.js';
import { runtimeReserve, stageReserves } from '../../src/sim/memory/runtime-reserve.js';
import { defaultRunSettings } from '../../src/sim/run/run-settings.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { makePlan } from '../../src/workload/plan.js';

const cluster = loadCluster('supermicro12');
const machine = clusterMachine(cluster, loadNcclProfile());
const { cfg, base } = modelInputs({ gpus: 96, source: 'test' });
const usable = cluster.gpu.hbmUsableBytes;
/** The default sweep's best plan before the runtime reserve was counted (40.9 GB of tensors on 42.4 GB usable). */
const formerBest = makePlan(cfg, {
  ...base, tp: 2, pp: 2, dp: 24, microBatch: 2, gradAccumSteps: 32, zeroStage: 2, recompute: 'selective',
  schedule: 'interleaved', virtualStages: 11, p2p: 'async', rankOrder: ['data', 'pipe', 'model'],
});

describe('the planner counts the runtime reserve: a plan whose tensors fit no longer does, and says why', () => {
  const graph = buildTaskGraph(cfg, formerBest);
  const reserve = runtimeReserve(graph, machine);
  const perStage = stageReserves(reserve, graph.coords.pipe, formerBest.pp);

  it('its tensors alone fit the GPU; with each stage\'s reserve its task-graph floor does not', () => {
    const tensors = graphMemoryFloors(graph);
    const withReserve = graphMemoryFloors(graph, reserve);
    expect(Math.max(...tensors.map((f) => f.bytes))).toBeLessThanOrEqual(usable);
    expect(Math.max(...withReserve.map((f) => f.bytes))).toBeGreaterThan(usable);
    withReserve.forEach((f, s) => expect(f.bytes).toBe(tensors[s]!.bytes + perStage[s]!));
  });

  it('the quick bound adds the same reserve and names it', () => {
    const q = new QuickBounder(cfg, machine).memoryBound(formerBest);
    expect(q.runtimeBytes).toBe(perStage[q.stage]);
    expect(q.runtimeBytes).toBeGreaterThan(2e9);
    expect(quickMemoryText(formerBest, q, usable)).toMatch(/ \+ runtime reserve \d\.\d GB/);
  });

  it('the evaluator drops it by its task graph\'s floor, naming the runtime reserve', () => {
    const ev = new PlanEvaluator({ cfg, cluster: { name: 'supermicro12', overrides: {} }, nccl: DEFAULT_NCCL, settings: defaultRunSettings() });
    const r = ev.evaluate({ plan: formerBest, threshold: Infinity });
    expect(r.kind).toBe('memory');
    if (r.kind !== 'memory') return;
    expect(r.memory.capacityBytes).toBe(usable);
    expect(r.memory.byCategory.runtime).toBe(perStage[r.memory.stage]);
    expect(memoryVerdictText(r.memory)).toMatch(/^needs ≥ \d+\.\d GB > 42\.4 GB on stage \d \(task-graph floor\): model states \d+\.\d GB \+ runtime reserve \d\.\d GB \+ /);
  });
});
