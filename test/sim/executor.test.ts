import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { ComputeModel } from '../../src/sim/compute/compute-model.js';
import { execute, type Machine } from '../../src/sim/executor/executor.js';
import { Collectives } from '../../src/sim/collectives/collectives.js';
import { Engine } from '../../src/sim/engine/engine.js';
import { Network } from '../../src/sim/network/network.js';
import type { Topology } from '../../src/hardware/topology.js';
import { HandGraph } from './helpers/hand-graph.js';
import { a100System, nccl } from './helpers/nccl.js';
import { star } from './helpers/toy-topology.js';

const GB = 1e9;
const S = 1 << 30;
const compute = new ComputeModel(loadCluster('supermicro12').gpu);
const machine = (topology: Topology): Machine => ({ topology, compute, nccl, system: a100System });
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

describe('executor: streams and dependencies', () => {
  it('runs one stream FIFO and different streams concurrently', () => {
    const h = new HandGraph(1);
    const a = h.compute(0, 'a', 2);
    const b = h.compute(0, 'b', 3);
    const c = h.compute(0, 'c', 5, { stream: 'dp' });
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(1, GB)), { computeSeconds });
    expect([t.start[0]![a], t.end[0]![a]]).toEqual([0, 2]);
    expect([t.start[0]![b], t.end[0]![b]]).toEqual([2, 5]);
    expect([t.start[0]![c], t.end[0]![c]]).toEqual([0, 5]);
    expect(t.stepTime).toBe(5);
  });

  it('a task waits for its dependencies on other streams, and its stream waits behind it', () => {
    const h = new HandGraph(1);
    const slow = h.compute(0, 'slow', 7, { stream: 'dp' });
    const a = h.compute(0, 'a', 1);
    const b = h.compute(0, 'b', 1, { deps: [slow] });
    const c = h.compute(0, 'c', 1);
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(1, GB)), { computeSeconds });
    expect(t.end[0]![a]).toBe(1);
    expect(t.start[0]![b]).toBe(7);
    expect(t.start[0]![c]).toBe(8);
  });
});

describe('executor: collectives and point-to-point', () => {
  it('a collective starts when its last member arrives (free communication)', () => {
    const h = new HandGraph(4).group('tp', [[0, 1, 2, 3]]);
    const ar: number[] = [];
    for (let r = 0; r < 4; r++) {
      const c = h.compute(r, 'work', r + 1);
      ar.push(h.collective(r, 'tp', 'all-reduce', S, 'ar', { deps: [c] }));
      h.compute(r, 'after', 1, { deps: [ar[r]!] });
    }
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(4, GB)), { computeSeconds, freeComm: true });
    for (let r = 0; r < 4; r++) {
      expect(t.start[r]![ar[r]!]).toBe(4);
      expect(t.end[r]![ar[r]!]).toBe(4);
      expect(t.end[r]![2]).toBe(5);
    }
    expect(t.stepTime).toBe(5);
  });

  for (const p of [2, 4, 8]) {
    it(`ring all-reduce of S bytes over ${p} ranks at per-rank bandwidth B: 2(p−1)/p·S/B plus latency, after the last member`, () => {
      const B = 100 * GB;
      const h = new HandGraph(p).group('tp', [[...Array(p).keys()]]);
      for (let r = 0; r < p; r++) h.collective(r, 'tp', 'all-reduce', S, 'ar', { deps: [h.compute(r, 'work', 0.001 * r)] });
      const { graph, computeSeconds } = h.build();
      const topo = star(p, B);
      const t = execute(graph, machine(topo), { computeSeconds });
      // NCCL's choice for this size on one NVLink node, and its latency term.
      const plan = new Collectives(new Network(new Engine(), topo), nccl, a100System).plan({ op: 'all-reduce', ranks: [...Array(p).keys()], bytes: S });
      expect(plan.algorithm).toBe('ring');
      expect(plan.protocol).toBe('Simple');
      const last = 0.001 * (p - 1);
      for (let r = 0; r < p; r++) {
        expect(t.start[r]![1]).toBe(last);
        close(t.end[r]![1]! - last, plan.latency + ((2 * (p - 1)) / p) * (S / B));
      }
    });
  }

  it('two flows on one link get half the bandwidth each', () => {
    const B = 10 * GB;
    const h = new HandGraph(3, 'async');
    h.send(0, 1, S, 'to1');
    h.send(0, 2, S, 'to2', { stream: 'dp' });
    h.recv(1, -1, S, 'to1');
    h.recv(2, -2, S, 'to2');
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(3, B)), { computeSeconds });
    // Both leave GPU 0 over its one uplink: B/2 each, so each takes 2·S/B (+ NCCL's p2p latency).
    const latency = nccl.baseLatency.ring.Simple + nccl.hwLatency.nvlink.ring.Simple;
    close(t.end[0]![0]!, (2 * S) / B + latency);
    close(t.end[0]![1]!, (2 * S) / B + latency);
    close(t.end[1]![0]!, t.end[0]![0]!);
  });

  it('a send and its recv start together, when the later side arrives (synchronous broadcast)', () => {
    const B = 10 * GB;
    const h = new HandGraph(2);
    const w0 = h.compute(0, 'produce', 1);
    const s = h.send(0, 1, S, 'act', { deps: [w0] });
    h.compute(0, 'next', 1, { deps: [s] });
    const w1 = h.compute(1, 'busy', 3);
    const r = h.recv(1, -1, S, 'act', { deps: [w1] });
    const use = h.compute(1, 'consume', 1, { deps: [r] });
    const { graph, computeSeconds } = h.build();
    const t = execute(graph, machine(star(2, B)), { computeSeconds });
    expect(t.start[0]![s]).toBe(3);
    expect(t.start[1]![r]).toBe(3);
    expect(t.end[0]![s]).toBe(t.end[1]![r]);
    // A 2-rank broadcast: S/B plus NCCL's latency for one NVLink hop.
    close(t.end[1]![r]! - 3, S / B + (nccl.baseLatency.ring.Simple + nccl.hwLatency.nvlink.ring.Simple));
    expect(t.start[1]![use]).toBe(t.end[1]![r]);
    expect(t.start[0]![2]).toBe(t.end[0]![s]);
  });

  it('reports a deadlock (a member never reaches the collective) instead of hanging', () => {
    const h = new HandGraph(2).group('tp', [[0, 1]]);
    h.collective(0, 'tp', 'all-reduce', 8, 'a');
    h.collective(1, 'tp', 'all-reduce', 8, 'b');
    const { graph, computeSeconds } = h.build();
    expect(() => execute(graph, machine(star(2, GB)), { computeSeconds })).toThrow(/deadlock: rank 0 never ran task 0/);
  });

  it('is deterministic: the same graph gives the same timeline bit for bit', () => {
    const build = () => {
      const h = new HandGraph(4, 'async').group('tp', [[0, 1], [2, 3]]).group('dp', [[0, 2], [1, 3]]);
      for (let r = 0; r < 4; r++) {
        const c = h.compute(r, 'w', 0.01 * (r % 3));
        const a = h.collective(r, 'tp', 'all-reduce', 3e8, 'tp', { deps: [c] });
        h.collective(r, 'dp', 'reduce-scatter', 5e8, 'dp', { stream: 'dp', deps: [c] });
        if (r < 2) h.send(r, 2, 1e8, 'x', { deps: [a] });
        else h.recv(r, -2, 1e8, 'x');
      }
      return h.build();
    };
    const runs = [build(), build()].map(({ graph, computeSeconds }) => execute(graph, machine(star(4, 50 * GB)), { computeSeconds }));
    expect(runs[0]!.end.map((a) => Array.from(a))).toEqual(runs[1]!.end.map((a) => Array.from(a)));
    expect(runs[0]!.start.map((a) => Array.from(a))).toEqual(runs[1]!.start.map((a) => Array.from(a)));
  });
});
