import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { clusterMetrics } from '../../src/hardware/metrics.js';
import { FlowNetwork } from '../../src/hardware/max-flow.js';

describe('max flow', () => {
  it('finds the min cut of a small graph', () => {
    // Classic example: s=0, t=5; max flow 23.
    const n = new FlowNetwork(6);
    for (const [a, b, c] of [[0, 1, 16], [0, 2, 13], [1, 2, 10], [2, 1, 4], [1, 3, 12], [3, 2, 9], [2, 4, 14], [4, 3, 7], [3, 5, 20], [4, 5, 4]]) n.addEdge(a!, b!, c!);
    expect(n.maxFlow(0, 5)).toBe(23);
  });
});

describe('cluster capacity figures', () => {
  it('supermicro12: 100 GB/s per node, full bisection, 1.5:1 trunk', () => {
    const m = clusterMetrics(loadCluster('supermicro12'));
    expect(m.injectionPerNode).toEqual({ line: 100e9, payload: 94e9 });
    // Nodes 0-5 to 6-11: each half's 24 HCAs meet the other half's on the same two switches.
    expect(m.bisection.line).toBeCloseTo(600e9, 0);
    expect(m.fullBisection.line).toBe(600e9);
    expect(m.trunk).toEqual({ line: 400e9, payload: 376e9, links: 16, hcaPortsPerSwitch: 24 });
    expect(m.oversubscription).toBeCloseTo(1.5, 12);
    expect(m.nvlinkPerGpu).toEqual({ line: 300e9, payload: 240e9, links: 12 });
    expect(m.pciePerGpu.payload).toBe(24e9);
    expect(m.gpusPerHca).toBe(2);
    expect(m.gpuToHca.map((r) => r.ibSwitch)).toEqual(['ib-switch0', 'ib-switch0', 'ib-switch1', 'ib-switch1', 'ib-switch0', 'ib-switch0', 'ib-switch1', 'ib-switch1']);
  });

  it('a narrower trunk is more oversubscribed but the rail-aligned bisection stays', () => {
    const m = clusterMetrics(loadCluster('supermicro12', { trunkLinks: 8 }));
    expect(m.oversubscription).toBeCloseTo(3, 12);
    expect(m.bisection.line).toBeCloseTo(600e9, 0);
  });

  it('one HCA per node: all on one switch, 8 GPUs share it', () => {
    const m = clusterMetrics(loadCluster('supermicro12', { nicsPerNode: 1 }));
    expect(m.injectionPerNode.line).toBe(25e9);
    expect(m.bisection.line).toBeCloseTo(150e9, 0);
    expect(m.gpusPerHca).toBe(8);
  });

  it.each([2, 16, 21, 101])('dgx-a100 at %i nodes is non-blocking: bisection = half the injection', (nodes) => {
    const m = clusterMetrics(loadCluster('dgx-a100', { nodes }));
    expect(m.injectionPerNode.line).toBe(200e9);
    expect(m.bisection.line).toBeCloseTo(m.fullBisection.line, 0);
    expect(m.bisection.line).toBeCloseTo(Math.floor(nodes / 2) * 200e9, 0);
    expect(m.oversubscription).toBeLessThanOrEqual(1);
  });

  it('one node has no bisection', () => {
    expect(clusterMetrics(loadCluster('dgx-a100', { nodes: 1 })).bisection.line).toBe(0);
  });
});
