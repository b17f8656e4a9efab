import { describe, expect, it } from 'vitest';
import { type Cluster, loadCluster } from '../../src/hardware/cluster.js';
import type { Topology } from '../../src/hardware/topology.js';

const kinds = (t: Topology, route: number[]) => route.map((l) => t.links[l]!.cls);
const names = (t: Topology, route: number[]) => route.map((l) => t.links[l]!.name);

/** Why the route from GPU src to dst is not a connected walk that visits no device twice, or null if it is. */
function walkError(c: Cluster, src: number, dst: number): string | null {
  const t = c.topology;
  const r = t.route(src, dst);
  if (src === dst) return r.length === 0 ? null : 'non-empty route to itself';
  if (t.links[r[0]!]!.src !== t.gpus[src]) return 'does not start at the source GPU';
  if (t.links[r.at(-1)!]!.dst !== t.gpus[dst]) return 'does not end at the destination GPU';
  const seen = new Set([t.gpus[src]]);
  for (let i = 0; i < r.length; i++) {
    const l = t.links[r[i]!]!;
    if (i > 0 && l.src !== t.links[r[i - 1]!]!.dst) return `gap before ${l.name}`;
    if (seen.has(l.dst)) return `revisits ${t.devices[l.dst]!.name}`;
    seen.add(l.dst);
  }
  return null;
}

function expectWalks(c: Cluster, pairs: Array<[number, number]>): void {
  const bad = pairs.map(([s, d]) => [s, d, walkError(c, s, d)]).filter(([, , e]) => e !== null);
  expect(bad).toEqual([]);
}

describe('supermicro12 (the GPT-NeoX-20B cluster)', () => {
  const c = loadCluster('supermicro12');
  const t = c.topology;
  const count = <T extends string>(xs: T[]) => xs.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {} as Record<string, number>);

  it('has the devices and links of 12 AS-4124GO-NART servers on two switches', () => {
    expect(count(t.devices.map((d) => d.kind))).toEqual({ gpu: 96, nvswitch: 12, 'pcie-switch': 48, cpu: 24, hca: 48, 'ib-switch': 2 });
    // Directed: GPU<->NVSwitch 2x96; PCIe: (8 GPU + 4 HCA + 4 uplinks) x 2 x 12; xGMI 2 x 12; HCA cables 2 x 48; trunk 2 x 16.
    expect(count(t.links.map((l) => l.cls))).toEqual({ nvlink: 192, pcie: 384, xgmi: 24, hca: 96, trunk: 32 });
    expect([c.gpuCount, c.hcaCount, c.gpusPerNode, c.hcasPerNode, t.nodes]).toEqual([96, 48, 8, 4, 12]);
    t.links.forEach((l, i) => expect(l.id).toBe(i));
    t.devices.forEach((d, i) => expect(d.id).toBe(i));
  });

  it('routes inside a node through the NVSwitch fabric', () => {
    const r = t.route(3, 5);
    expect(names(t, r)).toEqual(['node0/gpu3->node0/nvswitch', 'node0/nvswitch->node0/gpu5']);
    expect(t.links[r[0]!]!.bandwidth).toBe(240e9);
    expect(t.links[r[0]!]!.lineRate).toBe(300e9);
  });

  it('routes rail-aligned traffic between nodes through one switch, without the trunk', () => {
    const r = t.route(0, 8); // node0/gpu0 -> node1/gpu0: HCA0 on both, both on switch 0
    expect(names(t, r)).toEqual([
      'node0/gpu0->node0/pcie-sw0', 'node0/pcie-sw0->node0/hca0', 'node0/hca0->ib-switch0',
      'ib-switch0->node1/hca0', 'node1/hca0->node1/pcie-sw0', 'node1/pcie-sw0->node1/gpu0',
    ]);
    expect(kinds(t, r)).not.toContain('trunk');
  });

  it('crosses the trunk when the HCAs sit on different switches', () => {
    const r = t.route(0, 8 + 2); // HCA0 (switch 0) -> HCA1 of node 1 (switch 1)
    expect(kinds(t, r).filter((k) => k === 'trunk')).toHaveLength(1);
    expect(names(t, r)).toContain('node1/hca1->node1/pcie-sw1');
  });

  it('gives the two GPUs on a PCIe switch one shared HCA link', () => {
    const hcaLink = (src: number) => t.route(src, 16).find((l) => t.links[l]!.cls === 'hca');
    expect(hcaLink(0)).toBe(hcaLink(1));
    expect(hcaLink(0)).not.toBe(hcaLink(2));
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((g) => c.hcaOfGpu(g))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(c.hcaOfGpu(8 * 5 + 7)).toBe(4 * 5 + 3);
  });

  it('spreads destinations over all 16 trunk links, deterministically', () => {
    const used = new Set<number>();
    for (let n = 1; n < 12; n++) for (const g of [2, 3, 6, 7]) used.add(t.route(0, 8 * n + g).find((l) => t.links[l]!.cls === 'trunk')!);
    expect(used.size).toBe(16);
    const again = loadCluster('supermicro12').topology;
    expect(JSON.stringify(again.links)).toBe(JSON.stringify(t.links));
    expect(again.route(5, 77)).toEqual(t.route(5, 77));
  });

  it('returns connected, loop-free walks for every GPU pair, cached and frozen', () => {
    expectWalks(c, Array.from({ length: 96 * 96 }, (_, i) => [Math.floor(i / 96), i % 96] as [number, number]));
    expect(t.route(1, 90)).toBe(t.route(1, 90));
    expect(Object.isFrozen(t.route(1, 90))).toBe(true);
    expect(() => t.route(0, 96)).toThrow(RangeError);
  });

  it('charges switch, adapter and NVLink latencies along a path', () => {
    const total = (r: number[]) => r.reduce((s, l) => s + t.links[l]!.latency, 0);
    expect(total(t.route(0, 1))).toBeCloseTo(0.47e-6, 15);
    // PCIe switch 105 ns + HCA 300 + IB switch 130 + HCA 300 + PCIe switch 105 (entering a GPU costs nothing)
    expect(total(t.route(0, 8))).toBeCloseTo(940e-9, 15);
    expect(total(t.route(0, 10))).toBeCloseTo(1070e-9, 15);
  });
});

describe('overrides', () => {
  it('swaps the GPU: H100 NVLink, Gen5 GPU limited by the Gen4 switch', () => {
    const c = loadCluster('supermicro12', { gpu: 'h100' });
    expect(c.gpu.id).toBe('h100-sxm5-80gb');
    expect(c.name).toBe('supermicro12 (gpu=h100-sxm5-80gb)');
    const t = c.topology;
    const [nvl] = t.route(0, 1);
    expect(t.links[nvl!]!.bandwidth).toBe(370e9);
    const [pcie] = t.route(0, 8);
    expect(t.links[pcie!]!.lineRate).toBeCloseTo(31.5e9, 3);
    expect(loadCluster('supermicro12', { gpu: 'a100-80gb' }).gpu.hbmBytes).toBe(80 * 2 ** 30);
  });

  it('changes the node count', () => {
    const c = loadCluster('supermicro12', { nodes: 6 });
    expect([c.gpuCount, c.topology.gpus.length, c.hcaCount]).toEqual([48, 48, 24]);
  });

  it('re-places HCAs: 2 per node go through the CPU, 1 per node across the sockets', () => {
    const two = loadCluster('supermicro12', { nicsPerNode: 2 });
    expect(two.layout.hcaOfGpu).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(two.layout.gpuHcaPath).toEqual(['PIX', 'PIX', 'PHB', 'PHB', 'PIX', 'PIX', 'PHB', 'PHB']);
    expect(names(two.topology, two.topology.route(2, 8))).toContain('node0/pcie-sw1->node0/cpu0');
    const one = loadCluster('supermicro12', { nicsPerNode: 1 });
    expect(one.layout.gpuHcaPath.slice(4)).toEqual(['SYS', 'SYS', 'SYS', 'SYS']);
    expect(kinds(one.topology, one.topology.route(7, 8))).toContain('xgmi');
    expectWalks(one, [0, 3, 7].flatMap((s) => [8, 13, 95].map((d) => [s, d] as [number, number])));
    expect(loadCluster('dgx-a100', { nicsPerNode: 4 }).layout.hcaOfGpu).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('widens or narrows the trunk', () => {
    const c = loadCluster('supermicro12', { trunkLinks: 8 });
    expect(c.topology.links.filter((l) => l.cls === 'trunk')).toHaveLength(16);
  });

  it('rejects what cannot be built', () => {
    expect(() => loadCluster('supermicro12', { nodes: 13 })).toThrow('supermicro12: nodes: expected at most 12 nodes');
    expect(() => loadCluster('supermicro12', { nicsPerNode: 8 })).toThrow('expected at most 6 nodes');
    expect(() => loadCluster('supermicro12', { nicsPerNode: 3 })).toThrow('nicsPerNode: expected one of 1, 2, 4, 8');
    expect(() => loadCluster('dgx-a100', { trunkLinks: 4 })).toThrow('only two-switch fabrics have a trunk');
    expect(() => loadCluster('supermicro12', { gpu: 'v100' })).toThrow('gpu: expected one of a100-40gb, a100-80gb, h100');
    expect(() => loadCluster('dgx-a100', { nodes: 2001 })).toThrow('at most 2000 nodes');
    expect(() => loadCluster('nope')).toThrow('expected a known cluster profile (dgx-a100, dgx-h100, supermicro12)');
  });
});

describe('dgx-a100 fat tree', () => {
  it.each([
    [1, { leaf: 8, spine: 4 }, 2],
    [16, { leaf: 8, spine: 4 }, 2],
    [20, { leaf: 8, spine: 4 }, 2],
    [21, { leaf: 16, spine: 10 }, 2],
    [100, { leaf: 40, spine: 20 }, 2],
    [101, { leaf: 48, 'pod spine': 60, core: 40 }, 3],
    [128, { leaf: 56, 'pod spine': 60, core: 40 }, 3],
    [384, { leaf: 160, 'pod spine': 160, core: 80 }, 3],
  ])('%i nodes', (nodes, switches, levels) => {
    const c = loadCluster('dgx-a100', { nodes });
    expect(c.fabric.switchesByLevel).toEqual(switches);
    expect(c.fabric.levels).toBe(levels);
    const t = c.topology;
    // No switch uses more ports than it has.
    const ports = new Map<number, number>();
    for (const l of t.links) if (t.devices[l.src]!.kind === 'ib-switch') ports.set(l.src, (ports.get(l.src) ?? 0) + 1);
    expect(Math.max(...ports.values())).toBeLessThanOrEqual(40);
    // Sampled routes are connected walks; same-rail neighbours stay under one leaf.
    const G = c.gpuCount;
    expectWalks(c, Array.from({ length: 200 }, (_, i) => [(i * 7919) % G, (i * 104729 + 13) % G] as [number, number]));
    if (nodes > 1) expect(kinds(t, t.route(0, 8))).toEqual(['pcie', 'pcie', 'hca', 'hca', 'pcie', 'pcie']);
  });

  it('routes a leaf-to-leaf permutation without sharing a link (ftree property)', () => {
    for (const nodes of [40, 128]) {
      const c = loadCluster('dgx-a100', { nodes });
      const t = c.topology;
      const used = new Set<number>();
      for (let i = 0; i < 20; i++) {
        for (const l of t.route(8 * i, 8 * (20 + i))) {
          if (t.links[l]!.cls !== 'switch-port') continue;
          expect(used.has(l)).toBe(false);
          used.add(l);
        }
      }
      expect(used.size).toBe(40);
    }
  });

  it('a single rail of up to 20 nodes is one switch', () => {
    const c = loadCluster('dgx-a100', { nodes: 20, nicsPerNode: 1 });
    expect(c.fabric.switchesByLevel).toEqual({ leaf: 1 });
    // GPU 5 is on socket 1, its node's only HCA on socket 0: the last leg crosses xGMI.
    expect(kinds(c.topology, c.topology.route(0, 8 * 19 + 5))).toEqual(['pcie', 'pcie', 'hca', 'hca', 'pcie', 'pcie', 'xgmi', 'pcie', 'pcie']);
  });
});

describe('user profiles', () => {
  it('a cluster file may reference its own server file by relative path', async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'neox-hw-user-'));
    try {
      const server = JSON.parse(readFileSync('hardware-profiles/servers/as-4124go-nart.json', 'utf8'));
      server.id = 'my-server';
      server.gpu = 'a100-sxm4-80gb';
      writeFileSync(join(dir, 'my-server.json'), JSON.stringify(server));
      const cluster = JSON.parse(readFileSync('hardware-profiles/clusters/supermicro12.json', 'utf8'));
      Object.assign(cluster, { id: 'mine', server: './my-server.json', nodes: { value: 4, source: 'test' } });
      writeFileSync(join(dir, 'mine.json'), JSON.stringify(cluster));
      const c = loadCluster(join(dir, 'mine.json'));
      expect([c.name, c.gpuCount, c.gpu.id, c.server.id]).toEqual(['mine', 32, 'a100-sxm4-80gb', 'my-server']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
