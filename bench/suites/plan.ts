/**
 * Planner speed: the default `neox-sim plan` sweep for GPT-NeoX-20B on supermicro12 (every plan enumerated,
 * bounded, the exact top 10 simulated), as a user runs it — the built CLI on worker threads — against the
 * project's 60 s target. Baseline, measured in the same run: one simulated NeoX-20B step (its own plan,
 * task-graph build and execution on one thread), so the ratio says how many single-plan simulations the
 * whole sweep costs. `--quick` times a small sweep instead (the 20B plan's family: two rank orders).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Suite, SuiteResult } from '../lib/suite.js';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { execute } from '../../src/sim/executor/executor.js';
import { NEOX_20B_PLAN } from '../../src/sim/run/run-settings.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { makePlan } from '../../src/workload/plan.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TARGET_SECONDS = 60;

interface Sweep {
  seconds: number;
  json: {
    space: { plans: number };
    counts: { simulated: number; prunedByQuickBound: number; prunedByGraphFloor: number; droppedForMemory: Record<string, number> };
    rows: { key: string; stepSeconds: number }[];
    kthSeconds: number | null;
  };
}

/** Runs the built CLI once and times it (a sweep is far too long to repeat). */
function sweep(args: string[]): Sweep {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [`${root}/bin/neox-sim.js`, 'plan', '--json', '--no-progress', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`neox-sim plan ${args.join(' ')} failed: ${r.stderr}`);
  return { seconds, json: JSON.parse(r.stdout) };
}

/** Seconds of one NeoX-20B step on supermicro12 (its own plan), build + execute, best of three. */
function oneStep(): number {
  const cfg = getPreset('neox-20b');
  const cluster = loadCluster('supermicro12');
  const machine = clusterMachine(cluster, loadNcclProfile());
  const plan = makePlan(cfg, { ...NEOX_20B_PLAN, dp: cluster.gpuCount / 8 });
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execute(buildTaskGraph(cfg, plan), machine);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

export const suite: Suite = {
  name: 'plan',
  description: 'the default neox-sim plan sweep (NeoX-20B on supermicro12, exact top 10) vs one simulated step; 60 s target',
  async run(ctx: BenchContext): Promise<SuiteResult> {
    if (!existsSync(`${root}/dist/cli/main.js`)) throw new Error('bench plan: run `npm run build` first (it times the built CLI)');
    const args = ctx.quick ? ['--tp', '2', '--pp', '4', '--mbs', '4', '--zero', '1', '--recompute', 'full', '--schedule', '1f1b', '--top', '2'] : [];
    const name = ctx.quick ? 'NeoX-20B plan family sweep (2 plans), supermicro12' : 'default NeoX-20B sweep, supermicro12 (sweeps/s)';
    ctx.log(name);
    const step = oneStep();
    const s = sweep(args);
    const c = s.json.counts;
    const m = c.droppedForMemory;
    const notes = [
      `${name}: ${s.seconds.toFixed(1)} s wall = ${(s.seconds / TARGET_SECONDS).toFixed(2)} of the ${TARGET_SECONDS} s target, on ${ctx.machine.cores} cores ` +
        `(load average ${ctx.machine.loadAverage.map((x) => x.toFixed(1)).join(' ')} before)`,
      `  ${s.json.space.plans.toLocaleString('en-US')} plans: ${(m['quick bound']! + m['graph floor']! + m['simulated peak']!).toLocaleString('en-US')} do not fit, ` +
        `${c.prunedByQuickBound.toLocaleString('en-US')} pruned by the quick bound, ${c.prunedByGraphFloor} by the task-graph floor, ${c.simulated} simulated` +
        `${s.json.kthSeconds !== null ? ` (the k-th best: ${s.json.kthSeconds.toFixed(2)} s per step)` : ''}`,
      `  best plan: ${s.json.rows[0]?.key} at ${s.json.rows[0]?.stepSeconds.toFixed(2)} s per step; one 20B step simulates in ${step.toFixed(2)} s (best of 3)`,
    ];
    return {
      tables: [{
        title: 'plan search (rate = sweeps per second)',
        columns: ['measurement', 'rate', 'baseline', 'baseline rate', 'ratio'],
        rows: [[name, 1 / s.seconds, 'one simulated NeoX-20B step (build + execute)', 1 / step, step / s.seconds]],
        notes,
      }],
      data: { sweepSeconds: s.seconds, stepSeconds: step, target: TARGET_SECONDS, counts: c, plans: s.json.space.plans, best: s.json.rows[0] ?? null, args },
    };
  },
};
