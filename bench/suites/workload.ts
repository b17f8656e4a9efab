/**
 * Task-graph build speed: model + plan → every rank's tasks for one optimizer step, for the GPT-NeoX-20B run
 * on 96 GPUs (DeepSpeed 1F1B and an interleaved variant) and a 1,024-GPU plan. Baseline, measured in the same
 * run: expanding the same graph into one plain object per task per rank (`viewTask`), i.e. what a
 * non-shared, object-per-task representation costs just to materialise. The note gives the wall time
 * against the project's target (~100 ms for 96 GPUs).
 */
import type { BenchContext, RateRow, Suite, SuiteResult } from '../lib/suite.js';
import { medianSeconds } from '../lib/measure.js';
import { getPreset } from '../../src/model/presets.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { makePlan, type Plan } from '../../src/workload/plan.js';
import { taskCount, viewTask, type TaskGraph } from '../../src/workload/task-graph.js';

const neox20b = getPreset('neox-20b');
const run20b: Partial<Plan> = {
  tp: 2, pp: 4, dp: 12, microBatch: 4, gradAccumSteps: 32, zeroStage: 1, recompute: 'full',
  reduceBucketSize: 1.26e9, allgatherBucketSize: 1.26e9, overlapComm: true,
};

function expandPerRank(g: TaskGraph): number {
  let n = 0;
  for (let r = 0; r < g.ranks; r++) {
    const p = g.programs[g.programOfRank[r]!]!;
    const tasks = [];
    for (let i = 0; i < p.size; i++) tasks.push(viewTask(g, p, i));
    n += tasks.length;
  }
  return n;
}

export const suite: Suite = {
  name: 'workload',
  description: 'task-graph build: NeoX-20B step on 96 GPUs (1F1B, interleaved) and on 1,024 GPUs vs an object-per-task expansion',
  async run(ctx: BenchContext): Promise<SuiteResult> {
    const cases: [string, Plan, number][] = [
      ['NeoX-20B, 96 GPUs, 1F1B ZeRO-1 (graphs/s)', makePlan(neox20b, run20b), 0.1],
      ['NeoX-20B, 96 GPUs, interleaved v=11 (graphs/s)', makePlan(neox20b, { ...run20b, schedule: 'interleaved', virtualStages: 11, p2p: 'async' }), 0.1],
      ['NeoX-20B, 1,024 GPUs, TP 4 PP 8 DP 32, GAS 64 (graphs/s)', makePlan(neox20b, { ...run20b, tp: 4, pp: 8, dp: 32, microBatch: 1, gradAccumSteps: 64, unevenPipeline: true }), 1],
    ];
    const rows: RateRow[] = [];
    for (const [name, plan, target] of ctx.quick ? cases.slice(0, 1) : cases) {
      ctx.log(name);
      const g = buildTaskGraph(neox20b, plan);
      const build = await medianSeconds(() => buildTaskGraph(neox20b, plan), ctx.time);
      const expand = await medianSeconds(() => expandPerRank(g), Math.min(ctx.time, 500), 1);
      rows.push({
        name,
        rate: 1 / build,
        baseline: 'object-per-task expansion of the same graph',
        baselineRate: 1 / expand,
        ratio: expand / build,
        note: `${taskCount(g).toLocaleString('en-US')} tasks (${g.programs.length} shared programs of ${g.programs.map((p) => p.size).join('/')}) built in ${(build * 1e3).toFixed(0)} ms = ${(build / target).toFixed(2)} of the ${target * 1e3} ms target`,
      });
    }
    return {
      tables: [{
        title: 'workload task-graph build',
        columns: ['measurement', 'rate', 'baseline', 'baseline rate', 'ratio'],
        rows: rows.map((r) => [r.name, r.rate, r.baseline, r.baselineRate, r.ratio]),
        notes: rows.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`),
      }],
      data: { rows },
    };
  },
};
