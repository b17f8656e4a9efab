import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../../src/hardware/nccl-profile.js';
import { getPreset } from '../../../src/model/presets.js';
import { ALL_RANK_ORDERS, enumeratePlans } from '../../../src/plan/enumerate.js';
import { QuickBounder } from '../../../src/plan/quick-bounds.js';
import { collectiveFloor } from '../../../src/sim/bounds/collective-floor.js';
import { graphMemoryFloors } from '../../../src/sim/bounds/memory-floor.js';
import { idleCollectives, stepFloor } from '../../../src/sim/bounds/step-floor.js';
import { collectiveSweep } from '../../../src/sim/collectives/sweep.js';
import { execute } from '../../../src/sim/executor/executor.js';
import { runtimeReserve } from '../../../src/sim/memory/runtime-reserve.js';
import { stageMemory, trackRank } from '../../../src/sim/memory/tracker.js';
import { clusterMachine } from '../../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../../src/workload/build-graph.js';

const cluster = loadCluster('supermicro12', { nodes: 2 });
const machine = clusterMachine(cluster, loadNcclProfile());
const cfg = getPreset('neox-small'); // 4 layers, 4 heads, hidden 256, sequence 128

/** 40 plans drawn with a fixed seed from every plan of neox-small on 16 GPUs (all schedules, ZeRO stages, orders). */
function samplePlans(n: number) {
  const all = enumeratePlans({
    cfg, gpus: 16, gpusPerNode: 8, globalBatch: 32, base: {},
    choices: { rankOrders: ALL_RANK_ORDERS, tpAcrossNodes: false, unevenPipelines: false, engine: 'any' },
  }).plans;
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => all[Math.floor(next() * all.length)]!);
}

describe('lower bounds never exceed what the simulator reports', () => {
  const quick = new QuickBounder(cfg, machine);
  it.each(samplePlans(40).map((p) => [`tp${p.tp} pp${p.pp} dp${p.dp} mbs${p.microBatch} z${p.zeroStage} ${p.recompute} ${p.schedule}×${p.virtualStages} ${p.rankOrder}`, p]))('%s', (_, plan) => {
    const graph = buildTaskGraph(cfg, plan);
    const step = execute(graph, machine);
    const peaks = Array.from({ length: graph.ranks }, (_, r) => trackRank(step, r).peak.peakBytes);
    const floors = graphMemoryFloors(graph);
    for (let r = 0; r < graph.ranks; r++) expect(floors[graph.programOfRank[r]!]!.bytes).toBeLessThanOrEqual(peaks[r]! * (1 + 1e-12));
    const sf = stepFloor(graph, machine);
    expect(sf.contentionFree).toBeLessThanOrEqual(step.stepTime * (1 + 1e-12));
    expect(sf.linkVolume.seconds).toBeLessThanOrEqual(step.stepTime * (1 + 1e-12));
    const q = quick.bounds(plan);
    expect(q.stepSeconds).toBeLessThanOrEqual(sf.seconds * (1 + 1e-12));
    // With the runtime reserve (CUDA context, cuBLAS, NCCL buffers): the quick bound and the stage floors
    // bound each stage's fullest GPU, as the tracker reports it; the quick bound counts the same reserve.
    const reserve = runtimeReserve(graph, machine);
    const stages = stageMemory(step, Infinity, reserve);
    const stageFloors = graphMemoryFloors(graph, reserve);
    for (const st of stages) expect(stageFloors[st.pipe]!.bytes).toBeLessThanOrEqual(st.peak.peakBytes * (1 + 1e-12));
    expect(q.memory.bytes).toBeLessThanOrEqual(stageFloors[q.memory.stage]!.bytes * (1 + 1e-12));
    expect(q.memory.runtimeBytes).toBe(Math.max(...Array.from(reserve.bytes).filter((_, r) => graph.coords.pipe[r] === q.memory.stage)));
  });

  it('the floors are close to the simulation where nothing contends: memory exact for 1F1B, step within 5%', () => {
    const plan = samplePlans(40).find((p) => p.schedule === '1f1b' && p.pp > 1 && p.zeroStage === 1)!;
    const graph = buildTaskGraph(cfg, plan);
    const step = execute(graph, machine);
    const floors = graphMemoryFloors(graph);
    for (let r = 0; r < graph.ranks; r++) expect(floors[graph.programOfRank[r]!]!.bytes).toBeCloseTo(trackRank(step, r).peak.peakBytes, -3);
    expect(stepFloor(graph, machine).seconds).toBeGreaterThan(0.95 * step.stepTime);
  });
});

describe('collective floor', () => {
  it('equals the time of the operation alone on the idle network (ring and tree, NVLink and InfiniBand)', () => {
    const colls = idleCollectives(machine);
    const cases: [string, number[], 'all-reduce' | 'all-gather' | 'reduce-scatter' | 'broadcast'][] = [
      ['TP pair', [0, 1], 'all-reduce'], ['one node', [0, 1, 2, 3, 4, 5, 6, 7], 'all-gather'], ['across nodes', [0, 8], 'broadcast'],
      ['16 GPUs', Array.from({ length: 16 }, (_, i) => i), 'all-reduce'], ['stride 8', [0, 8], 'reduce-scatter'],
    ];
    for (const [, ranks, op] of cases) {
      for (const bytes of [1e5, 3e7, 1e9]) {
        const alone = collectiveSweep({ topology: machine.topology, nccl: machine.nccl, system: machine.system, op, ranks, sizes: [bytes] })[0]!.time;
        const floor = collectiveFloor(colls.plan({ op, ranks: Object.freeze([...ranks]), bytes, root: 0 }), colls.network.capacity);
        expect(floor).toBeLessThanOrEqual(alone * (1 + 1e-12));
        expect(floor).toBeGreaterThan(alone * 0.999);
      }
    }
  });
});
