import { describe, expect, it } from 'vitest';
import { a100System, nccl, runAlone, runTogether } from './helpers/nccl.js';
import { cluster, star } from './helpers/toy-topology.js';

const GB = 1e9;
const us = 1e-6;
const S = 1 << 30; // 1 GiB

/** |a − b| ≤ 1e-12 relative: the same arithmetic up to rounding. */
function close(a: number, b: number) {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.abs(b));
}

describe('ring collectives against the α–β formulas', () => {
  for (const p of [2, 4, 8, 12]) {
    it(`ring all-reduce of S bytes over ${p} ranks at per-rank bandwidth B takes 2(p−1)/p·S/B + latency`, () => {
      const B = 100 * GB;
      const r = runAlone(star(p, B), { op: 'all-reduce', ranks: [...Array(p).keys()], bytes: S, algorithm: 'ring', protocol: 'Simple' });
      // NCCL 2.10.3 latency, one node over NVLink: base 8.4 µs + 2(p−1) steps × 3.4 µs.
      const latency = (8.4 + 2 * (p - 1) * 3.4) * us;
      close(r.end - r.start, latency + ((2 * (p - 1)) / p) * (S / B));
      close(r.plan.latency, latency);
      expect(r.plan.algorithm).toBe('ring');
      expect(r.bottleneck).toBe('nvlink');
    });

    it(`ring reduce-scatter and all-gather over ${p} ranks take (p−1)/p·S/B + latency`, () => {
      const B = 100 * GB;
      for (const op of ['reduce-scatter', 'all-gather'] as const) {
        const r = runAlone(star(p, B), { op, ranks: [...Array(p).keys()], bytes: S, protocol: 'Simple' });
        close(r.end - r.start, (8.4 + (p - 1) * 3.4) * us + ((p - 1) / p) * (S / B));
      }
    });
  }

  it('ring all-reduce across nodes (one GPU per node) is bound by the HCA and pays NET latencies', () => {
    const p = 4;
    const B = 25 * GB;
    const topo = cluster({ nodes: p, gpusPerNode: 1, hcasPerNode: 1, switches: 1, hcaBw: B, pcieBw: 1000 * GB });
    const r = runAlone(topo, { op: 'all-reduce', ranks: [0, 1, 2, 3], bytes: S, algorithm: 'ring', protocol: 'Simple' });
    // nsteps = 2(p−1) = 6, inter-node steps 2·nNodes = 8: 8.4 + (6 − 8)·3.4 + 8·9.6 µs, × 1.9 ring plateau.
    const latency = (8.4 + (6 - 8) * 3.4 + 8 * 9.6) * 1.9 * us;
    close(r.end - r.start, latency + ((2 * (p - 1)) / p) * (S / B));
    expect(r.bottleneck).toBe('hca');
    // Each hop carries 2(p−1)/p·S: 4 hops out of HCAs, 4 in.
    close(r.plan.bytesByClass.hca!, 8 * ((2 * (p - 1)) / p) * S);
  });

  it('broadcast is a pipelined chain: S/B + latency', () => {
    const p = 8;
    const B = 100 * GB;
    const r = runAlone(star(p, B), { op: 'broadcast', ranks: [...Array(p).keys()], bytes: S, root: 3, protocol: 'Simple' });
    // One node, all channels alike (sameChannels): base 8.4 µs + one NVLink hop 3.4 µs.
    close(r.end - r.start, (8.4 + 3.4) * us + S / B);
  });

  it('LL moves two wire bytes per data byte and is held to NCCL’s LL bandwidth', () => {
    const p = 8;
    // With 100 GB/s links, LL's doubled wire bytes would make the links the limit (50 GB/s of data); at
    // 300 GB/s NCCL's LL ceiling binds first.
    const slow = runAlone(star(p, 100 * GB), { op: 'all-reduce', ranks: [...Array(p).keys()], bytes: 1 << 20, algorithm: 'ring', protocol: 'LL' });
    expect(slow.bottleneck).toBe('nvlink');
    close(slow.dataTime, (((2 * (p - 1)) / p) * (1 << 20) * 2) / (100 * GB));
    const B = 300 * GB;
    const r = runAlone(star(p, B), { op: 'all-reduce', ranks: [...Array(p).keys()], bytes: 1 << 20, algorithm: 'ring', protocol: 'LL' });
    // NCCL's view: 12 channels × 22 GB/s = 264 → 235 cap → LL: min(87.7, 235/4 = 58.75) = 58.75 GB/s bus bandwidth.
    const busBw = 58.75 * GB;
    const latency = (3.6 + 2 * (p - 1) * 0.47) * us;
    close(r.end - r.start, latency + ((2 * (p - 1)) / p) * (1 << 20) / busBw);
    expect(r.bottleneck).toBe('ceiling');
    close(r.plan.bytesByClass.nvlink!, 2 * p * 2 * ((2 * (p - 1)) / p) * (1 << 20));
  });
});

describe('tree all-reduce', () => {
  // 4 nodes × 1 GPU on one switch. Double binary tree: tree 0 = 0 ← 2 ← {1, 3}, tree 1 = 3 ← 1 ← {2, 0}.
  // Node 2 is inner in tree 0 (3 edges) and a leaf in tree 1 (1 edge): its HCA carries 3r + r = 4r each way,
  // and so does every node's. Each tree carries S/2 per edge, so t = (S/2)/(B/4) = 2S/B.
  const topo = (B: number) => cluster({ nodes: 4, gpusPerNode: 1, hcasPerNode: 1, switches: 1, hcaBw: B, pcieBw: 1000 * GB });
  // Tree/Simple latency: 2·((ranks per node − 1)·intra + log2(4)·28 µs) = 112 µs.
  const latency = 2 * 2 * 28 * us;

  it('is network bound: 2S/B + latency when the links are slower than NCCL’s tree ceiling', () => {
    const B = 10 * GB;
    const r = runAlone(topo(B), { op: 'all-reduce', ranks: [0, 1, 2, 3], bytes: S, algorithm: 'tree', protocol: 'Simple' });
    close(r.end - r.start, latency + (2 * S) / B);
    expect(r.bottleneck).toBe('hca');
    expect(r.plan.nChannels).toBe(2); // ring graph 1 × 24 GB/s, tree graph 2 → 2 × min(1, 2)
  });

  it('is held to NCCL’s tree bandwidth when links are faster: 2S/busBw + latency', () => {
    // NCCL's graph: 1 NIC at 24 GB/s → 1 channel; pass 2 raises the tree's intra speed to 48; duplication → 2
    // channels at 24/12 GB/s. >2 nodes use the inter speed: busBw = 2 × 12 = 24 → min(24 × 0.92, 2 × 17.8) = 22.08.
    const r = runAlone(topo(100 * GB), { op: 'all-reduce', ranks: [0, 1, 2, 3], bytes: S, algorithm: 'tree', protocol: 'Simple' });
    close(r.end - r.start, latency + (2 * S) / (22.08 * GB));
    expect(r.bottleneck).toBe('ceiling');
  });
});

describe('contention between collectives', () => {
  // 3 nodes × 8 GPUs; data-parallel groups like GPT-NeoX-20B's (view B): TP rank 0 on GPUs 0,2,4,6 of each
  // node, TP rank 1 on GPUs 1,3,5,7 — the two groups share every HCA.
  const dp = (tp: number) => [0, 1, 2].flatMap((n) => [0, 2, 4, 6].map((g) => n * 8 + g + tp));
  const topo = cluster({ nodes: 3, hcaBw: 25 * GB, trunkBw: 16 * 25 * GB });

  it('two DP groups sharing the HCAs take twice as long as one alone', () => {
    const bytes = 1 << 30;
    const alone = runAlone(topo, { op: 'reduce-scatter', ranks: dp(0), bytes });
    const [a, b] = runTogether(topo, [
      { op: 'reduce-scatter', ranks: dp(0), bytes },
      { op: 'reduce-scatter', ranks: dp(1), bytes },
    ]);
    const dataAlone = alone.dataTime;
    expect(alone.bottleneck).toBe('hca');
    expect(a!.dataTime / dataAlone).toBeCloseTo(2, 6);
    expect(b!.dataTime / dataAlone).toBeCloseTo(2, 6);
  });

  it('the trunk between the two switches limits cross-rail rings when it is thin', () => {
    const bytes = 1 << 30;
    const thin = cluster({ nodes: 3, hcaBw: 25 * GB, trunkBw: 25 * GB });
    const wide = runAlone(topo, { op: 'reduce-scatter', ranks: dp(0), bytes });
    const narrow = runAlone(thin, { op: 'reduce-scatter', ranks: dp(0), bytes });
    expect(narrow.bottleneck).toBe('trunk');
    expect(narrow.dataTime).toBeGreaterThan(1.5 * wide.dataTime);
  });
});

describe('NCCL 2.10.3 algorithm selection', () => {
  it('switches tree ↔ ring (Simple) on 12 × 8 A100 where the hand-computed model says', () => {
    // 96 ranks, 12 nodes, 4 NICs per node. Ring graph: 4 channels × 24 GB/s → busBw 96, algBw 96·96/190.
    // Tree graph: 8 channels × 12 GB/s → 96 → min(96 × 0.92, 8 × 17.8) = 88.32, algBw 44.16 × correction.
    // Latencies: ring 8.4 + (190 − 24)·3.4 + 24·9.6 = 803.2 µs, × 1.9 plateau = 1526.08 µs;
    //            tree 2·((8 − 1)·28 + log2(12)=3 · 28) = 560 µs.
    // For 64–128 MiB the Simple tree correction is 0.8: tree wins while
    //   560 + S/(44.16·0.8·1e3) < 1526.08 + S/(96·96/190·1e3)   (µs, S in bytes)
    const ringBw = ((96 * 96) / 190) * 1e3;
    const treeBw = 44.16 * 0.8 * 1e3;
    const crossover = (1526.08 - 560) / (1 / treeBw - 1 / ringBw);
    expect(crossover).toBeGreaterThan(64 * 2 ** 20);
    expect(crossover).toBeLessThan(128 * 2 ** 20);
    const topo = cluster({ nodes: 12 });
    const ranks = [...Array(96).keys()];
    const below = runAlone(topo, { op: 'all-reduce', ranks, bytes: Math.floor(crossover * 0.999), protocol: 'Simple' });
    const above = runAlone(topo, { op: 'all-reduce', ranks, bytes: Math.ceil(crossover * 1.001), protocol: 'Simple' });
    expect(below.plan.algorithm).toBe('tree');
    expect(above.plan.algorithm).toBe('ring');
    close(below.plan.modelTime, 560 * us + Math.floor(crossover * 0.999) / (treeBw * 1e6));
  });

  it('chooses LL for tiny messages, a tree across many nodes and ring on one node for large ones', () => {
    const topo = cluster({ nodes: 12 });
    const all = [...Array(96).keys()];
    expect(runAlone(topo, { op: 'all-reduce', ranks: all, bytes: 8 }).plan.protocol).toBe('LL');
    expect(runAlone(topo, { op: 'all-reduce', ranks: all, bytes: 8 }).plan.algorithm).toBe('tree');
    const node = runAlone(topo, { op: 'all-reduce', ranks: [...Array(8).keys()], bytes: 1 << 30 });
    expect([node.plan.algorithm, node.plan.protocol]).toEqual(['ring', 'Simple']);
  });

  it('single-node model numbers: 12 channels, 235 GB/s cap', () => {
    const engineFree = runAlone(star(8, 300 * GB), { op: 'all-reduce', ranks: [...Array(8).keys()], bytes: 1 << 30 }, a100System);
    expect(engineFree.plan.nChannels).toBe(24);
    // Model: 235 GB/s bus bandwidth → algBw 235·8/14; latency 8.4 + 14 × 3.4 µs.
    close(engineFree.plan.modelTime, (8.4 + 14 * 3.4) * us + (1 << 30) / ((235 * GB * 8) / 14));
    expect(nccl.ampereBusBwCap).toBe(235 * GB);
  });
});

describe('determinism', () => {
  it('the same collectives give byte-identical results', () => {
    const topo = cluster({ nodes: 3 });
    const reqs = [
      { op: 'all-reduce' as const, ranks: [...Array(24).keys()], bytes: 123456789 },
      { op: 'all-gather' as const, ranks: [0, 8, 16], bytes: 9876543 },
      { op: 'sendrecv' as const, ranks: [1, 9, 17, 3], bytes: 5555555 },
    ];
    expect(JSON.stringify(runTogether(topo, reqs))).toBe(JSON.stringify(runTogether(topo, reqs)));
  });
});

describe('protocol availability', () => {
  it('LL128 is off without NVLink inside the node, and forcing it is an input error', () => {
    const pcieNode = star(4, 24 * GB, 0, 'pcie');
    const auto = runAlone(pcieNode, { op: 'all-reduce', ranks: [0, 1, 2, 3], bytes: 1 << 24 });
    expect(auto.plan.protocol).not.toBe('LL128');
    expect(() => runAlone(pcieNode, { op: 'all-reduce', ranks: [0, 1, 2, 3], bytes: 1 << 24, protocol: 'LL128' })).toThrow(/no enabled LL128 all-reduce/);
    expect(() => runAlone(pcieNode, { op: 'all-gather', ranks: [0, 1, 2, 3], bytes: 1 << 24, algorithm: 'tree' })).toThrow(/trees exist for all-reduce only/);
  });
});
