/**
 * Network-simulator benchmarks: the event engine's rate, and collective "storms" with the collective volume of
 * a GPT-NeoX-20B step on 96 GPUs and of the same layout on 1,024 GPUs. Each figure comes with a baseline
 * measured in the same run:
 *  - events: the engine's binary heap against a sorted array with binary-search insertion, on the same
 *    self-rescheduling timer population;
 *  - storms: the congestion-aware simulation against NCCL's own closed-form time for the same collectives
 *    (what a contention-free α–β model costs), and the wall time against the project's target for a whole
 *    step (2 s for 96 GPUs, 20 s for 1,024).
 */
import { Bench } from 'tinybench';
import { type Cluster, loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { Collectives } from '../../src/sim/collectives/collectives.js';
import { clusterNcclSystem } from '../../src/sim/collectives/nccl-system.js';
import { Engine } from '../../src/sim/engine/engine.js';
import { Network } from '../../src/sim/network/network.js';

export interface BenchRow {
  name: string;
  /** Operations per second (events/s, collectives/s) of the measured code. */
  rate: number;
  baseline: string;
  baselineRate: number;
  /** rate / baselineRate. */
  ratio: number;
  note?: string;
}

const nccl = loadNcclProfile();

/** A population of timers that reschedule themselves with pseudo-random delays until `events` have run. */
function timerStorm(events: number, schedule: (at: number, fn: () => void) => void, now: () => number, drain: () => void): void {
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let left = events;
  const tick = () => {
    if (--left > 0) schedule(now() + rnd() * 1e-3, tick);
  };
  for (let i = 0; i < 1000; i++) schedule(rnd() * 1e-3, tick);
  drain();
}

/** The obvious alternative to a heap: a time-sorted array, insertion by binary search and splice. */
function sortedArrayStorm(events: number): void {
  const times: number[] = [];
  const fns: (() => void)[] = [];
  let clock = 0;
  const schedule = (at: number, fn: () => void) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    times.splice(lo, 0, at);
    fns.splice(lo, 0, fn);
  };
  timerStorm(events, schedule, () => clock, () => {
    while (times.length) {
      clock = times.shift()!;
      fns.shift()!();
    }
  });
}

function engineStorm(events: number): void {
  const e = new Engine();
  timerStorm(events, (at, fn) => e.schedule(at, fn), () => e.now, () => e.run());
}

/**
 * The collectives of one GPT-NeoX-20B-like step: every TP pair (adjacent GPUs) runs `tpRounds` chained
 * 96 MiB all-reduces (s·b·h fp16; 11 layers × 32 micro-batches × 4 per layer = 1408 in the real step), while
 * each data-parallel group (same local GPU on every node) runs ZeRO-1's reduce-scatter and all-gather of
 * 2.49e9 fp16 parameters twice. Returns the number of collectives simulated.
 */
function step(cluster: Cluster, tpRounds: number): number {
  const engine = new Engine();
  const colls = new Collectives(new Network(engine, cluster.topology), nccl, clusterNcclSystem(nccl, cluster));
  const G = cluster.gpuCount;
  const perNode = cluster.gpusPerNode;
  let ops = 0;
  const chain = (ranks: readonly number[], n: number, op: (i: number) => 'all-reduce' | 'reduce-scatter' | 'all-gather', bytes: number) => {
    let i = 0;
    const next = () => {
      if (i >= n) return;
      ops++;
      colls.run({ op: op(i++), ranks, bytes, onDone: next });
    };
    next();
  };
  for (let g = 0; g < G; g += 2) chain(Object.freeze([g, g + 1]), tpRounds, () => 'all-reduce', 96 * 2 ** 20);
  for (let local = 0; local < perNode; local++) {
    const dp = Object.freeze(Array.from({ length: G / perNode }, (_, n) => n * perNode + local));
    chain(dp, 4, (i) => (i % 2 ? 'all-gather' : 'reduce-scatter'), 2 * 2.49e9);
  }
  engine.run();
  return ops;
}

/** NCCL's closed-form time for the same collectives, without a network: the α–β baseline. */
function closedForm(cluster: Cluster, tpRounds: number): number {
  const colls = new Collectives(new Network(new Engine(), cluster.topology), nccl, clusterNcclSystem(nccl, cluster));
  const G = cluster.gpuCount;
  let ops = 0;
  let total = 0;
  for (let g = 0; g < G; g += 2) {
    const ranks = Object.freeze([g, g + 1]);
    for (let i = 0; i < tpRounds; i++, ops++) total += colls.plan({ op: 'all-reduce', ranks, bytes: 96 * 2 ** 20 }).modelTime;
  }
  for (let local = 0; local < cluster.gpusPerNode; local++) {
    const dp = Object.freeze(Array.from({ length: G / cluster.gpusPerNode }, (_, n) => n * cluster.gpusPerNode + local));
    for (let i = 0; i < 4; i++, ops++) total += colls.plan({ op: i % 2 ? 'all-gather' : 'reduce-scatter', ranks: dp, bytes: 2 * 2.49e9 }).modelTime;
  }
  if (!(total > 0)) throw new Error('closed-form baseline produced no time');
  return ops;
}

export default async function network(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const EVENTS = 200_000;
  const events = new Bench({ time: 500 });
  events.add('engine (binary heap)', () => engineStorm(EVENTS));
  events.add('sorted array', () => sortedArrayStorm(EVENTS));
  await events.run();
  const rate = (b: Bench, name: string, perRun: number) => {
    const r = b.tasks.find((t) => t.name === name)!.result as { latency?: { mean: number } };
    return (perRun * 1000) / r.latency!.mean;
  };
  const engineRate = rate(events, 'engine (binary heap)', EVENTS);
  const arrayRate = rate(events, 'sorted array', EVENTS);
  rows.push({ name: 'event engine, 1000 live timers', rate: engineRate, baseline: 'sorted-array queue', baselineRate: arrayRate, ratio: engineRate / arrayRate, note: 'events/s' });

  const cases: [string, Cluster, number, number][] = [
    ['96-GPU step storm (supermicro12, 1408 TP all-reduces per pair)', loadCluster('supermicro12'), 1408, 2],
    ['1,024-GPU step storm (dgx-a100 x 128, 1408 TP all-reduces per pair)', loadCluster('dgx-a100', { nodes: 128 }), 1408, 20],
  ];
  for (const [name, cluster, rounds, target] of cases) {
    let ops = 0;
    const t0 = performance.now();
    ops = step(cluster, rounds);
    const wall = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    closedForm(cluster, rounds);
    const formWall = (performance.now() - t1) / 1000;
    rows.push({
      name,
      rate: ops / wall,
      baseline: "NCCL's closed-form time for the same collectives (no network)",
      baselineRate: ops / formWall,
      ratio: formWall / wall,
      note: `collectives/s; ${ops} collectives in ${wall.toFixed(2)} s wall = ${(wall / target).toFixed(2)} of the ${target} s whole-step target`,
    });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await network()) {
    console.log(`${r.name}: ${(r.rate / 1e6).toFixed(3)} M/s vs ${r.baseline} ${(r.baselineRate / 1e6).toFixed(3)} M/s (ratio ${r.ratio.toFixed(2)}) ${r.note ?? ''}`);
  }
}
