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
import type { BenchContext, RateRow, Suite, SuiteResult } from '../lib/suite.js';
import { medianSeconds } from '../lib/measure.js';
import { type Cluster, loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { Collectives } from '../../src/sim/collectives/collectives.js';
import { clusterNcclSystem } from '../../src/sim/collectives/nccl-system.js';
import { Engine } from '../../src/sim/engine/engine.js';
import { Network } from '../../src/sim/network/network.js';

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
  // Plans are cached per communicator and size, so this times NCCL's formula once per distinct collective and
  // a cache lookup per repeat — the cheapest a contention-free model can be.
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

export const suite: Suite = {
  name: 'network',
  description: 'event engine rate; collective storms of a NeoX-20B step on 96 and 1,024 GPUs (congestion-aware sim vs closed form)',
  async run(ctx: BenchContext): Promise<SuiteResult> {
    const rows: RateRow[] = [];
    const EVENTS = ctx.quick ? 50_000 : 200_000;
    ctx.log('event engine vs sorted-array queue');
    const engineS = await medianSeconds(() => engineStorm(EVENTS), ctx.time);
    const arrayS = await medianSeconds(() => sortedArrayStorm(EVENTS), ctx.time);
    rows.push({ name: 'event engine, 1,000 live timers (events/s)', rate: EVENTS / engineS, baseline: 'sorted-array queue', baselineRate: EVENTS / arrayS, ratio: arrayS / engineS });

    const cases: [string, () => Cluster, number, number][] = [
      ['96-GPU step storm, supermicro12 (collectives/s)', () => loadCluster('supermicro12'), 1408, 2],
      ['1,024-GPU step storm, dgx-a100 x 128 (collectives/s)', () => loadCluster('dgx-a100', { nodes: 128 }), 1408, 20],
    ];
    for (const [name, make, rounds, target] of ctx.quick ? cases.slice(0, 1) : cases) {
      ctx.log(name);
      const cluster = make();
      const ops = step(cluster, rounds);
      // Each storm is long enough to time on its own; one warm run above, then the median of a few.
      const wall = await medianSeconds(() => step(cluster, rounds), 1, 1);
      const form = await medianSeconds(() => closedForm(cluster, rounds), Math.min(ctx.time, 500));
      rows.push({
        name,
        rate: ops / wall,
        baseline: "NCCL's closed-form times (no network)",
        baselineRate: ops / form,
        ratio: form / wall,
        note: `${ops} collectives in ${wall.toFixed(2)} s = ${(wall / target).toFixed(2)} of the ${target} s whole-step target`,
      });
    }
    return {
      tables: [{
        title: 'network simulator',
        columns: ['measurement', 'rate', 'baseline', 'baseline rate', 'ratio'],
        rows: rows.map((r) => [r.name, r.rate, r.baseline, r.baselineRate, r.ratio]),
        notes: rows.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`),
      }],
      data: { rows },
    };
  },
};
