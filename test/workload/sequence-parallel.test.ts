import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { layerActivationBytes } from '../../src/model/activation-memory.js';
import type { NeoXConfig } from '../../src/model/config.js';
import { embeddingOps } from '../../src/model/embedding-ops.js';
import { headOps } from '../../src/model/head-ops.js';
import { layerOps } from '../../src/model/layer-ops.js';
import { isCompute, type CommOp, type Op, type OpOptions, type Recompute } from '../../src/model/ops.js';
import { getPreset } from '../../src/model/presets.js';
import { ALL_RANK_ORDERS, enumeratePlans } from '../../src/plan/enumerate.js';
import { QuickBounder } from '../../src/plan/quick-bounds.js';
import { stepFloor } from '../../src/sim/bounds/step-floor.js';
import { execute } from '../../src/sim/executor/executor.js';
import { trackRank } from '../../src/sim/memory/tracker.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { checkGraph } from '../../src/workload/graph-checks.js';
import { makePlan, validatePlan, type Plan } from '../../src/workload/plan.js';
import { COLLECTIVES, COMM, KIND, MEM, viewTask, type TaskGraph } from '../../src/workload/task-graph.js';
import { runCli } from '../helpers/cli.js';

/**
 * Megatron sequence parallelism (Korthikanti et al. 2022, arXiv 2205.05198 §4.2.2): the regions between the
 * TP GEMMs run on s/t tokens, all-reduces become reduce-scatter + all-gather pairs (the same bytes on the
 * wire: (t−1)/t each against 2(t−1)/t), and the activation memory is Table 2's.
 */
const machine = clusterMachine(loadCluster('supermicro12', { nodes: 2 }), loadNcclProfile());
const sequential = (cfg: NeoXConfig): NeoXConfig => ({ ...cfg, parallelResidual: false });
const dropout = { attentionDropout: 0.1, hiddenDropout: 0.1 };

/** Bytes one rank puts on the wire for a ring collective of `bytes` (nccl-tests' bus-bandwidth factors). */
const wire = (kind: string, bytes: number, t: number) => (kind === 'all-reduce' ? (2 * (t - 1)) / t : (t - 1) / t) * bytes;
const comms = (ops: Op[]) => ops.filter((o): o is CommOp => o.type === 'comm');
/** The backward's re-gathers of the sharded GEMM inputs (for the weight gradients) have no no-SP counterpart. */
const isRegather = (name: string) => name.endsWith('.re-gather');

describe('sequence parallelism: the op lists', () => {
  for (const [name, cfg] of [['neox-small (parallel residual)', getPreset('neox-small')], ['neox-small sequential', sequential(getPreset('neox-small'))], ['pythia-70m', getPreset('pythia-70m')]] as const) {
    for (const tp of [2, 4]) {
      for (const recompute of ['none', 'selective', 'full'] as Recompute[]) {
        it(`${name}, TP ${tp}, ${recompute}: reduce-scatter + all-gather put the all-reduces' bytes on the wire`, () => {
          const base: OpOptions = { tp, microBatch: 2, seqLength: 128, recompute, ...dropout };
          const sp: OpOptions = { ...base, sequenceParallel: true };
          const all = (o: OpOptions) => [...embeddingOps(cfg, o), ...layerOps(cfg, o), ...headOps(cfg, o)];
          const off = comms(all(base));
          const on = comms(all(sp));
          expect(new Set(off.map((c) => c.kind))).toEqual(new Set(['all-reduce']));
          // With SP only the fp32 loss all-reduces (3 × s·b values) stay all-reduces.
          expect(on.filter((c) => c.kind === 'all-reduce').map((c) => c.name)).toEqual(['loss.max.all-reduce', 'loss.target-logit.all-reduce', 'loss.sum-exp.all-reduce']);
          const sum = (cs: CommOp[]) => cs.reduce((a, c) => a + wire(c.kind, c.bytes, tp), 0);
          // Parallel residual: the forward has 2 all-gathers + 1 reduce-scatter against 1 all-reduce, the backward
          // 1 + 2 against 2: even over forward + backward, one all-gather more in a full recompute's replay.
          const unit = 128 * 2 * cfg.hiddenSize * 2 * ((tp - 1) / tp);
          const excess = cfg.parallelResidual && recompute === 'full' ? unit : 0;
          expect(sum(on.filter((c) => !isRegather(c.name)))).toBeCloseTo(sum(off) + excess, 6);
          // One re-gather per column-parallel GEMM in the backward: QKV, h→4h per layer, and the logits.
          const regathers = on.filter((c) => isRegather(c.name));
          expect(regathers.map((c) => c.name)).toEqual(['mlp.input.re-gather', 'attention.input.re-gather', 'final_layer_norm.out.re-gather']);
          for (const c of regathers) expect(c).toMatchObject({ kind: 'all-gather', phase: 'backward', bytes: 128 * 2 * cfg.hiddenSize * 2 });
          // Per layer and phase: RS and AG counts.
          const layer = comms(layerOps(cfg, sp));
          const count = (phase: string, kind: string) => layer.filter((c) => c.phase === phase && c.kind === kind && !isRegather(c.name)).length;
          const fwd = cfg.parallelResidual ? { ag: 2, rs: 1 } : { ag: 2, rs: 2 };
          expect([count('forward', 'all-gather'), count('forward', 'reduce-scatter')]).toEqual([fwd.ag, fwd.rs]);
          expect([count('backward', 'all-gather'), count('backward', 'reduce-scatter')]).toEqual([fwd.rs, fwd.ag]);
          expect([count('recompute', 'all-gather'), count('recompute', 'reduce-scatter')]).toEqual(recompute === 'full' ? [fwd.ag, fwd.rs] : [0, 0]);
        });
      }
    }
  }

  it('runs LayerNorms, dropouts and the residual/bias adds on s/t tokens: 1/t of the bytes, FLOPs and time', () => {
    const cfg = sequential(getPreset('pythia-70m'));
    for (const tp of [2, 4]) {
      const base: OpOptions = { tp, microBatch: 2, seqLength: 2048, recompute: 'none', ...dropout };
      const off = layerOps(cfg, base).filter(isCompute);
      const on = layerOps(cfg, { ...base, sequenceParallel: true }).filter(isCompute);
      const sharded = /layernorm|hidden-dropout|residual|attention\.dense\.bias$|mlp\.dense_4h_to_h\.bias$|input-grad-sum/;
      const picked = on.filter((o) => sharded.test(o.name) && o.kind !== 'reduction' && o.kind !== 'grad-accumulate');
      expect(picked.length).toBeGreaterThanOrEqual(14);
      for (const op of picked) {
        const ref = off.find((o) => o.name === op.name && o.phase === op.phase)!;
        expect(op.m * tp).toBe(ref.m);
        expect(op.flops * tp).toBe(ref.flops);
        // The gamma/beta and bias reads do not shrink with the tokens: within 0.1%.
        expect(Math.abs(((op.bytesRead + op.bytesWritten) * tp) / (ref.bytesRead + ref.bytesWritten) - 1)).toBeLessThan(1e-3);
        expect(Math.abs((machine.compute.time(op) * tp) / machine.compute.time(ref) - 1)).toBeLessThan(1e-3);
      }
      // The GEMMs and the attention core are unchanged (but for the column GEMMs keeping their input's shard).
      for (const op of on.filter((o) => o.kind === 'gemm' || o.kind === 'bmm' || o.kind === 'softmax')) {
        const ref = off.find((o) => o.name === op.name && o.phase === op.phase)!;
        expect({ ...op, saves: [] }).toEqual({ ...ref, saves: [] });
      }
    }
  });

  // Korthikanti et al. Table 2, bytes per layer with 16-bit activations and dropout, sequential (pre-LN) layer:
  // TP + SP, no recompute s·b·h·(34/t + 5·a·s/(h·t)); selective 34·s·b·h/t; full recompute the sharded input 2·s·b·h/t.
  const cases: [string, NeoXConfig, number, number, number][] = [
    ['neox-20b', getPreset('neox-20b'), 2, 4, 2048],
    ['neox-20b', getPreset('neox-20b'), 8, 1, 2048],
    ['pythia-160m', getPreset('pythia-160m'), 4, 2, 2048],
    ['pythia-70m', getPreset('pythia-70m'), 2, 8, 512],
  ];
  for (const [name, cfg, t, b, s] of cases) {
    it(`stores Korthikanti's Table 2 activations with sequence parallelism: ${name}, TP ${t}, b ${b}, s ${s}`, () => {
      const seq = sequential(cfg);
      const sbh = s * b * cfg.hiddenSize;
      const a = cfg.numHeads;
      const opts = (recompute: Recompute): OpOptions => ({ tp: t, microBatch: b, seqLength: s, recompute, sequenceParallel: true, ...dropout });
      expect(layerActivationBytes(seq, opts('none')).stored).toBe((34 * sbh) / t + (5 * a * s * s * b) / t);
      expect(layerActivationBytes(seq, opts('selective')).stored).toBe((34 * sbh) / t);
      expect(layerActivationBytes(seq, opts('full')).stored).toBe((2 * sbh) / t);
    });
  }
});

describe('sequence parallelism: the plan', () => {
  const cfg = getPreset('neox-small');
  it('is rejected without TP and with a sequence the TP ranks cannot split evenly', () => {
    expect(() => validatePlan(cfg, makePlan(cfg, { tp: 1, sequenceParallel: true }))).toThrow(
      'plan: sequenceParallel: expected false unless tp > 1 (sequence parallelism splits the sequence over the tensor-parallel ranks), got true',
    );
    expect(() => validatePlan(cfg, makePlan(cfg, { tp: 4, seqLength: 126, sequenceParallel: true }))).toThrow(
      'plan: seqLength: expected a multiple of tp (4) with sequence parallelism (each TP rank holds s/tp tokens), got 126',
    );
    expect(() => validatePlan(cfg, makePlan(cfg, { tp: 4, seqLength: 126 }))).not.toThrow();
    expect(validatePlan(cfg, makePlan(cfg, { tp: 2, sequenceParallel: true })).warnings.join(' ')).toMatch(/sequence parallelism .* postdates gpt-neox 2022/);
  });
});

/** TP collectives of a graph: kind → count, and the bytes on the wire of one rank (excluding the re-gathers and the step's LayerNorm-gradient all-reduce). */
function tpTraffic(g: TaskGraph, rank: number, tp: number) {
  const p = g.programs[g.programOfRank[rank]!]!;
  const kinds: Record<string, number> = {};
  let bytes = 0;
  for (let i = 0; i < p.size; i++) {
    if (p.kind[i] !== KIND.collective || p.comm[i] !== COMM.tp) continue;
    const t = viewTask(g, p, i);
    if (t.phase === 'step' || isRegather(t.label) || t.part === 'activation' || t.part === 'activation-grad') continue;
    const kind = COLLECTIVES[p.collective[i]!]!;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    bytes += wire(kind, p.bytes[i]!, tp);
  }
  return { kinds, bytes };
}

describe('sequence parallelism: the task graph and the simulated step', () => {
  const cfg = getPreset('neox-small');
  const plan = (fields: Partial<Plan>) => makePlan(cfg, { tp: 4, pp: 2, dp: 1, gradAccumSteps: 4, microBatch: 2, p2p: 'async', ...fields });

  it('moves the same TP bytes as the all-reduces, as reduce-scatters and all-gathers, and sends s/t-token pipeline messages', () => {
    const off = buildTaskGraph(cfg, plan({}));
    const on = buildTaskGraph(cfg, plan({ sequenceParallel: true, ppScatterGather: true }));
    expect(checkGraph(on)).toEqual([]);
    for (const rank of [0, 4]) {
      const a = tpTraffic(off, rank, 4);
      const b = tpTraffic(on, rank, 4);
      expect(Object.keys(a.kinds)).toEqual(['all-reduce']);
      expect(b.kinds['reduce-scatter']).toBeGreaterThan(0);
      expect(b.kinds['all-gather']).toBeGreaterThan(0);
      // All-reduces left: the 3 fp32 loss reductions per micro-batch on the last stage.
      expect(b.kinds['all-reduce'] ?? 0).toBe(rank === 4 ? 3 * 4 : 0);
      expect(b.bytes).toBeCloseTo(a.bytes, 3);
    }
    // Pipeline messages: the rank's s/t shard; scatter/gather does not apply (no extra all-gather).
    const act = 128 * 2 * 256 * 2;
    const p = on.programs[0]!;
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] === KIND.send || p.kind[i] === KIND.recv) expect(p.bytes[i]).toBe(act / 4);
      if (p.kind[i] === KIND.collective && p.comm[i] === COMM.tp) expect(viewTask(on, p, i).label).not.toMatch(/^all-gather activation/);
    }
    // One step-level all-reduce of the LayerNorm gradients over TP per rank.
    for (const prog of on.programs) {
      const steps = Array.from({ length: prog.size }, (_, i) => i).filter((i) => prog.kind[i] === KIND.collective && prog.comm[i] === COMM.tp && viewTask(on, prog, i).phase === 'step');
      expect(steps).toHaveLength(1);
    }
  });

  it('simulates 8 GPUs deterministically, with less activation memory than without', () => {
    const sp = plan({ sequenceParallel: true });
    const a = execute(buildTaskGraph(cfg, sp), machine);
    const b = execute(buildTaskGraph(cfg, sp), machine);
    expect(a.stepTime).toBeGreaterThan(0);
    expect(b.stepTime).toBe(a.stepTime);
    const peakOn = trackRank(a, 0).peak;
    const peakOff = trackRank(execute(buildTaskGraph(cfg, plan({})), machine), 0).peak;
    expect(peakOn.maxByCategory[MEM['stored-activations']]!).toBeLessThan(peakOff.maxByCategory[MEM['stored-activations']]!);
  });

  it('keeps the quick bounds below the simulation for sequence-parallel plans (seeded)', () => {
    const all = enumeratePlans({
      cfg, gpus: 16, gpusPerNode: 8, globalBatch: 32, base: {},
      choices: { rankOrders: ALL_RANK_ORDERS, tpAcrossNodes: false, unevenPipelines: false, engine: 'any', tp: [2, 4] },
    }).plans;
    let seed = 777;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const quick = new QuickBounder(cfg, machine);
    for (let n = 0; n < 8; n++) {
      const p = { ...all[Math.floor(next() * all.length)]!, sequenceParallel: true };
      const graph = buildTaskGraph(cfg, p);
      expect(checkGraph(graph)).toEqual([]);
      const step = execute(graph, machine);
      const sf = stepFloor(graph, machine);
      expect(sf.contentionFree).toBeLessThanOrEqual(step.stepTime * (1 + 1e-12));
      const q = quick.bounds(p);
      expect(q.stepSeconds).toBeLessThanOrEqual(sf.seconds * (1 + 1e-12));
      const peak = Math.max(...Array.from({ length: graph.ranks }, (_, r) => trackRank(step, r).peak.peakBytes));
      expect(q.memory.bytes - q.memory.runtimeBytes).toBeLessThanOrEqual(peak * (1 + 1e-12));
    }
  }, 60_000);
});

describe('neox-sim simulate --sp', () => {
  const SMALL = ['simulate', '--model', 'pythia-160m', '--nodes', '1', '--tp', '2', '--pp', '2', '--mbs', '2', '--gas', '4', '--steps', '1000'];
  it('simulates the plan with sequence parallelism and rejects it without TP', () => {
    const on = runCli([...SMALL, '--sp', '--json']);
    expect(on.stderr).toBe('');
    expect(on.status).toBe(0);
    const off = runCli([...SMALL, '--json']);
    const s = JSON.parse(on.stdout);
    const t = JSON.parse(off.stdout);
    expect(s.step.stepSeconds ?? s.step.seconds).toBeGreaterThan(0);
    expect(JSON.stringify(s)).not.toBe(JSON.stringify(t));
    const bad = runCli([...SMALL, '--tp', '1', '--sp']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('neox-sim: simulate: --sp: expected false unless tp > 1 (sequence parallelism splits the sequence over the tensor-parallel ranks), got true\n');
  }, 60_000);
});
