import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/sim/engine/engine.js';
import { Network } from '../../src/sim/network/network.js';
import type { Flow } from '../../src/sim/network/flow.js';
import { linkUsage } from '../../src/sim/network/link-usage.js';
import { cluster, links, star } from './helpers/toy-topology.js';

const GB = 1e9;

function setup(capacities: number[], latency = 0) {
  const engine = new Engine();
  const net = new Network(engine, links(capacities, latency));
  return { engine, net };
}

describe('network: max-min fair sharing', () => {
  it('a single flow gets the whole link', () => {
    const { engine, net } = setup([10 * GB]);
    const f = net.start({ links: [0], bytes: 5 * GB });
    engine.run();
    expect(f.drainedAt).toBe(0.5);
    expect(f.bottleneck).toBe(0);
  });

  it('two flows on one link get half each', () => {
    const { engine, net } = setup([10 * GB]);
    const a = net.start({ links: [0], bytes: 5 * GB });
    const b = net.start({ links: [0], bytes: 5 * GB });
    engine.run(0); // rates are set at the instant the flows start
    expect(a.rate).toBe(5 * GB);
    expect(b.rate).toBe(5 * GB);
    engine.run();
    expect(a.drainedAt).toBe(1);
    expect(b.drainedAt).toBe(1);
  });

  it('three flows with different bottlenecks: the textbook case, exact rates', () => {
    // Link 0 (1 GB/s): flows a, b. Link 1 (2 GB/s): flows b, c. Link 2 (10 GB/s): flows a, c.
    // Progressive filling: link 0 saturates first at 0.5 → a = b = 0.5; link 1 leaves 1.5 for c; link 2 is slack.
    const { engine, net } = setup([1 * GB, 2 * GB, 10 * GB]);
    const a = net.start({ links: [0, 2], bytes: 1e12 });
    const b = net.start({ links: [0, 1], bytes: 1e12 });
    const c = net.start({ links: [1, 2], bytes: 1e12 });
    engine.run(0);
    expect([a.rate, b.rate, c.rate]).toEqual([0.5 * GB, 0.5 * GB, 1.5 * GB]);
    expect([a.bottleneck, b.bottleneck, c.bottleneck]).toEqual([0, 0, 1]);
  });

  it('a flow finishing frees bandwidth for the others: exact completion times', () => {
    // Link of 12 GB/s; flows of 4, 8 and 12 GB start together.
    // 0–1 s: 4 GB/s each; A done at 1 s (4 GB). B has 4 left, C 8 left; 6 GB/s each.
    // B done at 1 + 4/6 s; C has 8 − 4 = 4 left at 12 GB/s → done at 1 + 4/6 + 1/3 = 2 s.
    const { engine, net } = setup([12 * GB]);
    const [a, b, c] = [4, 8, 12].map((g) => net.start({ links: [0], bytes: g * GB }));
    engine.run();
    expect(a!.drainedAt).toBe(1);
    expect(b!.drainedAt).toBeCloseTo(1 + 4 / 6, 12);
    expect(c!.drainedAt).toBeCloseTo(2, 12);
    // The link carried 24 GB and was busy for 2 s.
    net.flush();
    expect(net.linkBytes[0]).toBeCloseTo(24 * GB, 0);
    expect(net.linkBusy[0]).toBeCloseTo(2, 12);
  });

  it('a flow starting later takes its share from then on', () => {
    const { engine, net } = setup([10 * GB]);
    const a = net.start({ links: [0], bytes: 10 * GB });
    let b: Flow | undefined;
    engine.schedule(0.5, () => (b = net.start({ links: [0], bytes: 2.5 * GB })));
    engine.run();
    // A alone for 0.5 s (5 GB), then 5 GB/s each: B drains 2.5 GB in 0.5 s; A finishes its last 2.5 GB alone.
    expect(b!.drainedAt).toBe(1);
    expect(a.drainedAt).toBe(1.25);
  });

  it('a coupled flow crossing a link twice uses twice its rate there', () => {
    const { engine, net } = setup([10 * GB, 10 * GB]);
    const co = net.start({ links: [0, 1, 0], bytes: 1 * GB });
    const other = net.start({ links: [1], bytes: 1e12 });
    engine.run(0);
    // Link 0: 2r ≤ 10 → r = 5; link 1: r + s ≤ 10 → the plain flow gets the 5 left.
    expect(co.rate).toBe(5 * GB);
    expect(other.rate).toBe(5 * GB);
  });

  it('respects a flow rate ceiling and gives the rest to others', () => {
    const { engine, net } = setup([10 * GB]);
    const capped = net.start({ links: [0], bytes: 1 * GB, maxRate: 2 * GB });
    const free = net.start({ links: [0], bytes: 1e12 });
    engine.run(0);
    expect(capped.rate).toBe(2 * GB);
    expect(free.rate).toBe(8 * GB);
    expect(capped.bottleneck).toBe(-1);
  });

  it('adds the latency once, after the data has drained', () => {
    const { engine, net } = setup([10 * GB]);
    let doneAt = NaN;
    net.start({ links: [0], bytes: 10 * GB, latency: 1e-6, onDone: () => (doneAt = engine.now) });
    engine.run();
    expect(doneAt).toBe(1 + 1e-6);
  });

  it('point-to-point sends use the route and the sum of hop latencies', () => {
    const engine = new Engine();
    const net = new Network(engine, star(4, 10 * GB, 1e-6));
    const f = net.send(0, 3, 10 * GB);
    engine.run();
    expect(f.drainedAt).toBe(1);
    expect(f.doneAt).toBe(1 + 2e-6);
  });

  it('batches all changes of one instant into one rate solve, per connected component', () => {
    const { engine, net } = setup([10 * GB, 10 * GB]);
    for (let i = 0; i < 10; i++) net.start({ links: [i % 2], bytes: 1 * GB });
    engine.run(0);
    expect(net.solves).toBe(1);
    engine.run();
    // Every flow ends at the same instant (1 s × 5 flows / link): one more solve for the departures.
    expect(net.solves).toBe(2);
  });

  it('two GPUs sharing one HCA halve each other’s inter-node bandwidth', () => {
    const topo = cluster({ nodes: 2, hcaBw: 25 * GB });
    const engine = new Engine();
    const net = new Network(engine, topo);
    // GPUs 0 and 1 of node 0 share HCA 0; send to GPUs 8 and 9 (node 1, HCA 0 there as well).
    const alone = net.send(0, 8, 25 * GB);
    engine.run();
    expect(alone.drainedAt).toBe(1);
    const engine2 = new Engine();
    const net2 = new Network(engine2, topo);
    const a = net2.send(0, 8, 25 * GB);
    const b = net2.send(1, 9, 25 * GB);
    engine2.run(0);
    expect(a.rate).toBe(12.5 * GB);
    expect(topo.links[a.bottleneck]!.cls).toBe('hca');
    engine2.run();
    expect(a.drainedAt).toBe(2);
    expect(b.drainedAt).toBe(2);
    // GPUs 0 and 2 use different HCAs (0 and 1): no sharing.
    const engine3 = new Engine();
    const net3 = new Network(engine3, topo);
    const c = net3.send(0, 8, 25 * GB);
    const d = net3.send(2, 10, 25 * GB);
    engine3.run();
    expect([c.drainedAt, d.drainedAt]).toEqual([1, 1]);
  });

  it('traffic crossing the trunk is limited by the trunk when oversubscribed', () => {
    // 2 nodes × 4 HCAs, HCAs alternate between 2 switches; a trunk of only 25 GB/s.
    const topo = cluster({ nodes: 2, hcaBw: 25 * GB, trunkBw: 25 * GB });
    const engine = new Engine();
    const net = new Network(engine, topo);
    // GPU 0 (HCA 0, switch 0) → GPU 10 (node 1, HCA 1, switch 1) and GPU 4 (HCA 2, switch 0) → GPU 14 (HCA 3, switch 1):
    // both cross the trunk; each HCA alone would allow 25 GB/s.
    const a = net.send(0, 10, 25 * GB);
    const b = net.send(4, 14, 25 * GB);
    engine.run(0);
    expect(a.rate).toBe(12.5 * GB);
    expect(topo.links[a.bottleneck]!.cls).toBe('trunk');
    engine.run();
    expect(a.drainedAt).toBe(2);
    // Rail-aligned traffic (same switch) does not touch the trunk.
    const engine2 = new Engine();
    const net2 = new Network(engine2, topo);
    const c = net2.send(0, 8, 25 * GB);
    const d = net2.send(4, 12, 25 * GB);
    engine2.run();
    expect([c.drainedAt, d.drainedAt]).toEqual([1, 1]);
  });

  it('is deterministic: same flows, same completion times and counters', () => {
    const runOnce = () => {
      const topo = cluster({ nodes: 3 });
      const engine = new Engine();
      const net = new Network(engine, topo);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) net.send(i, (i * 7 + 5) % 24, (i + 1) * 1e8, (f) => out.push(f.id, f.doneAt));
      engine.run();
      net.flush();
      return JSON.stringify({ out, bytes: Array.from(net.linkBytes) });
    };
    expect(runOnce()).toBe(runOnce());
  });
});

describe('network: incremental recompute and link accounting', () => {
  it('a change re-solves only the connected component it touches', () => {
    const { engine, net } = setup([10 * GB, 10 * GB]);
    const a = net.start({ links: [0], bytes: 100 * GB });
    engine.run(0);
    const before = net.solvedFlows;
    let b: Flow | undefined;
    engine.schedule(1, () => (b = net.start({ links: [1], bytes: 10 * GB })));
    engine.run(1.5);
    // Only B's component (link 1) was solved when B started; A kept its rate and completion event.
    expect(net.solvedFlows - before).toBe(1);
    expect(a.rate).toBe(10 * GB);
    engine.run();
    expect(b!.drainedAt).toBe(2);
    expect(a.drainedAt).toBe(10);
  });

  it('reports bytes, busy time and utilisation per link and per class', () => {
    const engine = new Engine();
    const topo = cluster({ nodes: 2, hcaBw: 25 * GB });
    const net = new Network(engine, topo);
    net.send(0, 8, 25 * GB); // 1 s over PCIe, the HCAs and back
    engine.schedule(2, () => {}); // observe over 2 s
    engine.run();
    const usage = linkUsage(net, 3);
    expect(usage.elapsed).toBe(2);
    expect(usage.busiest).toHaveLength(3);
    expect(usage.busiest[0]!.cls).toBe('hca'); // 25 GB on a 25 GB/s link: half the 2 s
    expect(usage.busiest[0]!.utilisation).toBeCloseTo(0.5, 12);
    expect(usage.busiest[0]!.busy).toBeCloseTo(1, 12);
    expect(usage.byClass.hca!.bytes).toBeCloseTo(2 * 25 * GB, 0);
    expect(usage.byClass.nvlink!.bytes).toBe(0);
  });
});

describe('network: max-min properties on random instances', () => {
  // A seeded LCG so the "random" instances are the same on every run.
  function rng(seed: number) {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  for (let seed = 1; seed <= 25; seed++) {
    it(`seed ${seed}: rates are feasible and every flow is bottlenecked (max-min)`, () => {
      const rand = rng(seed);
      const nLinks = 2 + Math.floor(rand() * 12);
      const caps = Array.from({ length: nLinks }, () => (1 + Math.floor(rand() * 40)) * GB);
      const { engine, net } = setup(caps);
      const flows = Array.from({ length: 1 + Math.floor(rand() * 25) }, () => {
        const hops = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => Math.floor(rand() * nLinks));
        const maxRate = rand() < 0.2 ? (1 + rand() * 10) * GB : undefined;
        return net.start({ links: hops, bytes: 1e15, maxRate });
      });
      engine.run(0);
      const load = new Float64Array(nLinks);
      for (const f of flows) for (let i = 0; i < f.links.length; i++) load[f.links[i]!]! += f.mult[i]! * f.rate;
      for (let l = 0; l < nLinks; l++) expect(load[l]).toBeLessThanOrEqual(caps[l]! * (1 + 1e-9));
      for (const f of flows) {
        expect(f.rate).toBeGreaterThan(0);
        if (f.bottleneck === -1) {
          expect(f.rate).toBeCloseTo(f.maxRate, 0);
          continue;
        }
        const l = f.bottleneck;
        expect(f.links).toContain(l);
        expect(load[l]).toBeGreaterThanOrEqual(caps[l]! * (1 - 1e-9)); // saturated
        for (const g of flows) if (g.links.includes(l)) expect(f.rate).toBeGreaterThanOrEqual(g.rate * (1 - 1e-9)); // and f is among its fastest
      }
    });
  }
});
