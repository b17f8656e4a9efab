import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { ComputeModel } from '../../src/sim/compute/compute-model.js';
import { execute, type Machine } from '../../src/sim/executor/executor.js';
import { rankBreakdown, stepBreakdown, type TimeBreakdown } from '../../src/sim/breakdown/breakdown.js';
import { stageMemory, trackRank } from '../../src/sim/memory/tracker.js';
import { MEM } from '../../src/workload/task-graph.js';
import type { Topology } from '../../src/hardware/topology.js';
import { HandGraph } from './helpers/hand-graph.js';
import { a100System, nccl } from './helpers/nccl.js';
import { star } from './helpers/toy-topology.js';

const GB = 1e9;
const compute = new ComputeModel(loadCluster('supermicro12').gpu);
const machine = (topology: Topology): Machine => ({ topology, compute, nccl, system: a100System });
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
const parts = (b: TimeBreakdown) => b.forward + b.recompute + b.backward + b.optimizer + b.exposedTp + b.exposedPp + b.exposedDp + b.bubble;

describe('step-time breakdown', () => {
  it('splits a compute-stream wait into waiting-for-peers (bubble) and the running transfer (exposed)', () => {
    const h = new HandGraph(2).group('tp', [[0, 1]]);
    for (let r = 0; r < 2; r++) {
      const c = h.compute(r, 'fwd', r === 0 ? 1 : 3);
      const ar = h.collective(r, 'tp', 'all-reduce', 1e9, 'ar', { deps: [c] });
      h.compute(r, 'bwd', 2, { deps: [ar], phase: 'backward' });
    }
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, 100 * GB)), { computeSeconds });
    const arTime = t.end[0]![1]! - t.start[0]![1]!;
    expect(t.start[0]![1]).toBe(3);
    const b0 = rankBreakdown(t, 0);
    expect(b0.forward).toBe(1);
    expect(b0.backward).toBe(2);
    close(b0.bubble, 2); // rank 1 arrives at 3
    close(b0.exposedTp, arTime);
    close(b0.commTp, arTime);
    expect(b0.hiddenTp).toBe(0);
    close(parts(b0), t.stepTime);
    const b1 = rankBreakdown(t, 1);
    expect(b1.bubble).toBe(0);
    close(b1.exposedTp, arTime);
    close(parts(b1), t.stepTime);
  });

  it('communication that runs while the compute stream is busy is hidden; the tail after compute is exposed', () => {
    const h = new HandGraph(2).group('dp', [[0, 1]]);
    for (let r = 0; r < 2; r++) {
      const a = h.compute(r, 'bwd1', 1, { phase: 'backward' });
      h.collective(r, 'dp', 'reduce-scatter', 2e10, 'rs', { deps: [a], stream: 'dp' });
      h.compute(r, 'bwd2', 0.05, { phase: 'backward' });
    }
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, 100 * GB)), { computeSeconds });
    const rs = t.end[0]![1]! - t.start[0]![1]!;
    expect(rs).toBeGreaterThan(0.05);
    const b = rankBreakdown(t, 0);
    close(b.hiddenDp, 0.05);
    close(b.commDp, rs);
    close(b.exposedDp, rs - 0.05);
    close(parts(b), t.stepTime);
  });

  it('a rank that finishes early idles until the step ends (bubble), and stages average their ranks', () => {
    const h = new HandGraph(2);
    h.compute(0, 'short', 1);
    h.compute(1, 'long', 4);
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, GB)), { computeSeconds });
    const { stages } = stepBreakdown(t);
    expect(stages.map((s) => s.mean.bubble)).toEqual([3, 0]);
    expect(stages.map((s) => s.mean.forward)).toEqual([1, 4]);
  });

  it('a wait that queues behind an earlier collective on a late member charges that collective', () => {
    const h = new HandGraph(2).group('tp', [[0, 1]]);
    // Rank 0 runs ar1 then ar2 on its TP stream; rank 1 runs ar1 on another stream and needs only ar2.
    h.collective(0, 'tp', 'all-reduce', 4e9, 'ar1');
    h.collective(0, 'tp', 'all-reduce', 1e9, 'ar2');
    h.collective(1, 'tp', 'all-reduce', 4e9, 'ar1', { stream: 'dp' });
    const ar2 = h.collective(1, 'tp', 'all-reduce', 1e9, 'ar2');
    h.compute(1, 'use', 1, { deps: [ar2] });
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, 100 * GB)), { computeSeconds });
    expect(t.start[1]![ar2]).toBe(t.end[0]![0]);
    const b = rankBreakdown(t, 1);
    // Idle from 0 until ar2 ends: ar2 waited for rank 0, which was running ar1: all of it is exposed TP.
    close(b.exposedTp, t.end[1]![ar2]!);
    expect(b.bubble).toBe(0);
    close(parts(b), t.stepTime);
  });

  it('send/recv pairs wait for their dependencies, not for their stream', () => {
    const h = new HandGraph(2, 'async');
    const s1 = h.send(0, 1, 4e9, 'm1');
    const s2 = h.send(0, 1, 4e9, 'm2');
    h.recv(1, -1, 4e9, 'm1');
    h.recv(1, -1, 4e9, 'm2');
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, 100 * GB)), { computeSeconds });
    expect(t.start[0]![s1]).toBe(0);
    expect(t.start[0]![s2]).toBe(0);
    close(t.end[0]![s1]!, t.end[0]![s2]!);
  });
});

describe('memory tracker', () => {
  it('adds events over time on top of static memory and records the breakdown at the peak', () => {
    const h = new HandGraph(1);
    const f1 = h.compute(0, 'f1', 1);
    const f2 = h.compute(0, 'f2', 1);
    const bw = h.compute(0, 'b', 1, { phase: 'backward' });
    h.mem(0, f1, 'end', 'checkpointed-activations', 100);
    h.mem(0, f2, 'end', 'checkpointed-activations', 100);
    h.mem(0, bw, 'start', 'recompute-working-set', 500);
    h.mem(0, bw, 'end', 'recompute-working-set', -500);
    h.mem(0, bw, 'end', 'checkpointed-activations', -200);
    const { graph, computeSeconds } = h.build({ 'fp16-params': 1000, 'adam-m': 50 });
    const t = execute(graph, machine(star(1, GB)), { computeSeconds });
    const { peak, series } = trackRank(t, 0, true);
    expect(peak.staticBytes).toBe(1050);
    expect(peak.peakBytes).toBe(1050 + 200 + 500);
    expect(peak.peakTime).toBe(2);
    expect(peak.atPeak[MEM['recompute-working-set']]).toBe(500);
    expect(peak.atPeak[MEM['checkpointed-activations']]).toBe(200);
    expect(peak.modelStateBytes).toBe(1050);
    expect(peak.activationBytes).toBe(700);
    expect(Array.from(series!.bytes)).toEqual([1050, 1150, 1250, 1750, 1250, 1050]);
    const [stage] = stageMemory(t, 2000);
    expect(stage!.fits).toBe(true);
    expect(stage!.marginBytes).toBe(250);
    expect(stageMemory(t, 1700)[0]!.fits).toBe(false);
  });
});
