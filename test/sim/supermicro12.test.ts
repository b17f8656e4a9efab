import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { Collectives, type CollectiveRequest, type CollectiveResult } from '../../src/sim/collectives/collectives.js';
import { commLayout } from '../../src/sim/collectives/layout.js';
import { clusterNcclSystem } from '../../src/sim/collectives/nccl-system.js';
import { busBwFactor, collectiveSweep } from '../../src/sim/collectives/sweep.js';
import { Engine } from '../../src/sim/engine/engine.js';
import { Network } from '../../src/sim/network/network.js';

// The GPT-NeoX-20B cluster as the hardware layer builds it: 12 × 8 A100 behind NVSwitch, 4 HDR HCAs per node
// (2 GPUs per HCA), two MQM8700 switches joined by a 16-link trunk.
const nccl = loadNcclProfile();
const cluster = loadCluster('supermicro12');
const system = clusterNcclSystem(nccl, cluster);
const GB = 1e9;

function together(reqs: Omit<CollectiveRequest, 'onDone'>[], c = cluster): CollectiveResult[] {
  const engine = new Engine();
  const colls = new Collectives(new Network(engine, c.topology), nccl, clusterNcclSystem(nccl, c));
  const out: CollectiveResult[] = [];
  reqs.forEach((req, i) => colls.run({ ...req, onDone: (r) => (out[i] = r) }));
  engine.run();
  return out;
}
const one = (req: Omit<CollectiveRequest, 'onDone'>, c = cluster) => together([req], c)[0]!;
/** GPT-NeoX-20B data-parallel group (view B of shared/facts/neox-20b.md §1.4): TP rank `tp` of pipeline stage 0. */
const dpGroup = (tp: number) => [0, 1, 2].flatMap((n) => [0, 2, 4, 6].map((g) => n * 8 + g + tp));

describe('collectives on the supermicro12 topology', () => {
  it('NCCL sees 12 × 22 GB/s NVLink, 24 GB/s Gen4 x16 PCIe and 25 GB/s HDR ports on an AMD A100 node', () => {
    expect(system).toEqual({ computeCapability: 80, cpuVendor: 'amd', nvlinkWidth: 264 * GB, pciWidth: 24 * GB, netWidth: 25 * GB });
  });

  it('channels leave each node through the HCA of the GPU that sends (no PXN in 2.10.3)', () => {
    const layout = commLayout(cluster.topology, [...Array(96).keys()]);
    expect(layout.nNodes).toBe(12);
    expect(layout.netPath).toBe('PIX');
    for (const groups of layout.hcaGroups) {
      expect(groups).toHaveLength(4);
      for (const group of groups) expect(new Set(group.map((g) => cluster.hcaOfGpu(g))).size).toBe(1);
    }
  });

  it('rows follow the nccl-tests definitions for every collective', () => {
    const ranks = [...Array(24).keys()];
    for (const op of ['all-reduce', 'reduce-scatter', 'all-gather', 'broadcast', 'reduce', 'sendrecv'] as const) {
      const [row] = collectiveSweep({ topology: cluster.topology, nccl, system, op, ranks, sizes: [1 << 26] });
      expect(row!.algbw).toBeCloseTo(row!.bytes / row!.time, 3);
      expect(row!.busbw / row!.algbw).toBeCloseTo(busBwFactor(op, 24), 12);
    }
    expect(busBwFactor('all-reduce', 24)).toBe((2 * 23) / 24);
    expect(busBwFactor('all-gather', 24)).toBe(23 / 24);
    expect(busBwFactor('broadcast', 24)).toBe(1);
  });

  it('one node reaches the NVLink payload rate; three nodes are bound by their four HCAs', () => {
    const node = one({ op: 'all-reduce', ranks: [...Array(8).keys()], bytes: 1 << 30 });
    const nodeBus = ((1 << 30) / (node.end - node.start)) * busBwFactor('all-reduce', 8);
    expect([node.plan.algorithm, node.plan.protocol, node.bottleneck]).toEqual(['ring', 'Simple', 'nvlink']);
    expect(nodeBus).toBeGreaterThan(225 * GB);
    expect(nodeBus).toBeLessThan(240 * GB); // 12 links × 20 GB/s payload per direction
    const three = one({ op: 'all-reduce', ranks: [...Array(24).keys()], bytes: 1 << 30 });
    const threeBus = ((1 << 30) / (three.end - three.start)) * busBwFactor('all-reduce', 24);
    expect(three.bottleneck).toBe('hca');
    expect(threeBus).toBeGreaterThan(85 * GB);
    expect(threeBus).toBeLessThan(4 * 23.5 * GB);
  });

  it('the two DP groups of a pipeline stage share the HCAs: together each takes twice as long', () => {
    const bytes = 2.49e9 * 2; // ZeRO-1 fp16 gradients of a middle stage (neox-20b.md §5.2)
    const alone = one({ op: 'reduce-scatter', ranks: dpGroup(0), bytes });
    const [a, b] = together([
      { op: 'reduce-scatter', ranks: dpGroup(0), bytes },
      { op: 'reduce-scatter', ranks: dpGroup(1), bytes },
    ]);
    expect(alone.bottleneck).toBe('hca');
    expect(a!.dataTime / alone.dataTime).toBeCloseTo(2, 3);
    expect(b!.dataTime / alone.dataTime).toBeCloseTo(2, 3);
  });

  it('a thinner trunk makes the cross-rail DP rings trunk-bound; fewer HCAs make them slower', () => {
    const bytes = 1 << 28;
    const base = one({ op: 'reduce-scatter', ranks: dpGroup(0), bytes });
    const thin = one({ op: 'reduce-scatter', ranks: dpGroup(0), bytes }, loadCluster('supermicro12', { trunkLinks: 2 }));
    const fewer = one({ op: 'reduce-scatter', ranks: dpGroup(0), bytes }, loadCluster('supermicro12', { nicsPerNode: 2 }));
    expect(thin.bottleneck).toBe('trunk');
    expect(thin.dataTime).toBeGreaterThan(1.5 * base.dataTime);
    expect(fewer.bottleneck).toBe('hca');
    expect(fewer.dataTime).toBeGreaterThan(1.5 * base.dataTime);
    // Each rail-aligned full-node ring never touches the trunk.
    const full = one({ op: 'all-reduce', ranks: [...Array(96).keys()], bytes, algorithm: 'ring' });
    expect(full.plan.bytesByClass.trunk ?? 0).toBe(0);
  });
});

describe('collectives on random communicators (seeded)', () => {
  function rng(seed: number) {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }
  const ops = ['all-reduce', 'reduce-scatter', 'all-gather', 'broadcast', 'reduce', 'sendrecv'] as const;

  it('any communicator, operation and size runs, takes at least its latency, and repeats exactly', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(rand() * 40);
      const pool = [...Array(96).keys()];
      const ranks = Array.from({ length: n }, () => pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
      const op = ops[Math.floor(rand() * ops.length)]!;
      const bytes = 1 + Math.floor(2 ** (rand() * 32));
      const req = { op, ranks, bytes, root: Math.floor(rand() * n) };
      const a = one(req);
      const b = one(req);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      expect(Number.isFinite(a.end)).toBe(true);
      expect(a.end - a.start).toBeGreaterThanOrEqual(a.plan.latency);
      expect(a.dataTime).toBeGreaterThan(0);
      // No link can carry more than its capacity: each flow's hop bytes over the data time bound its rate.
      for (const f of a.plan.flows) {
        for (let i = 0; i < f.path.links.length; i++) {
          const cap = cluster.topology.links[f.path.links[i]!]!.bandwidth;
          expect((f.bytes * f.path.mult[i]!) / a.dataTime).toBeLessThanOrEqual(cap * (1 + 1e-9));
        }
      }
    }
  });
});
