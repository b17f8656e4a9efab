import type { Plan } from '../workload/plan-types.js';
import { gb } from './memory-text.js';
import type { PlannerResult } from './planner.js';
import type { PlanRow } from './rows.js';

/** The planner's answer as text: the space, what was dropped and pruned, the ranked table, the comparison. */
export function formatPlannerText(r: PlannerResult, opts: { showDropped?: boolean } = {}): string {
  const L: string[] = [];
  const c = r.cluster;
  L.push(`${r.model.label} on ${c.name}: ${c.gpus} × ${c.gpu} (${c.nodes} nodes × ${c.gpusPerNode}); global batch ${int(r.globalBatch)} × ${int(r.seqLength)} tokens; ${int(r.steps)} steps`);
  L.push('');
  L.push(`Plan space: ${int(r.space.plans)} valid plans`);
  for (const lv of r.space.levels) {
    L.push(`  ${lv.what}: ${int(lv.tried)} tried, ${int(lv.kept)} kept`);
    for (const d of lv.dropped) L.push(`    − ${int(d.count)}: ${d.rule} (e.g. ${d.examples[0]})`);
  }
  if (r.space.notNeox2022 > 0) L.push(`  ${int(r.space.notNeox2022)} of the valid plans could not run on gpt-neox 2022 (marked †; --engine neox-2022 drops them)`);
  const n = r.counts;
  const m = n.droppedForMemory;
  const headroom = c.headroomBytes > 0 ? `, less ${gb(c.headroomBytes)} allocator headroom = ${gb(c.budgetBytes)}` : '; allocator headroom 0, none set (--memory-headroom)';
  L.push(`Memory (${gb(c.capacityBytes)} usable of ${gb(c.nominalBytes)} per GPU${headroom}; peaks include each GPU's runtime reserve: CUDA context, NCCL buffers, cuBLAS workspaces)`);
  L.push(`  ${int(m['quick bound'] + m['graph floor'] + m['simulated peak'])} plans do not fit — ` +
    `${int(m['quick bound'])} by a quick lower bound, ${int(m['graph floor'])} by their task graph's memory floor, ${int(m['simulated peak'])} by the simulated peak`);
  const kth = r.kthSeconds !== null ? `${sec(r.kthSeconds)} (the ${ordinal(r.top)} best)` : 'the best found';
  L.push(`Pruned: ${int(n.prunedByQuickBound)} plans whose quick step-time lower bound exceeds ${kth}; ${int(n.prunedByGraphFloor)} more by their task graph's step-time floor`);
  L.push(`Simulated: ${int(n.simulated)} plans (${r.workers > 0 ? `${r.workers} worker threads` : 'in this thread'})`);
  if (opts.showDropped && r.dropped.length) {
    L.push('');
    L.push('Plans that do not fit in GPU memory');
    for (const d of r.dropped) L.push(`  ${d.key}: ${d.reason}`);
  }
  if (r.rows.length) {
    L.push('');
    L.push(table(r));
  }
  L.push('');
  L.push(...closing(r));
  return `${L.join('\n')}\n`;
}

function table(r: PlannerResult): string {
  const cost = r.pricePerGpuHour !== null;
  const head = ['rank', 'TP', 'PP', 'DP', 'mbs', 'GAS', 'ZeRO', 'recompute', 'schedule', 'rank order', 'step s', 'tokens/s', 'TFLOP/s logger', '6N', 'peak GB', 'hours', 'GPU-hours', ...(cost ? ['cost'] : []), 'bottleneck'];
  const rowOf = (x: PlanRow, mark: string) => [
    `${x.rank ?? '–'}${mark}`, tpLabel(x.plan), String(x.plan.pp), String(x.plan.dp), String(x.plan.microBatch), String(x.plan.gradAccumSteps),
    String(x.plan.zeroStage), x.plan.recompute, schedule(x.plan) + (x.notNeox2022 ? ' †' : ''), x.plan.rankOrder.join(','), num(x.stepSeconds, 2),
    int(Math.round(x.tokensPerSecond)), num(x.tflopsPerGpu.logger), num(x.tflopsPerGpu.sixN), num(x.peakBytes / 1e9),
    num(x.totalHours), num(x.gpuHours), ...(cost ? [`$${num(x.cost!)}`] : []), x.bottleneck.label,
  ];
  const refKey = r.reference?.row?.key;
  const rows = r.rows.map((x) => rowOf(x, x.key === refKey ? ' ◀' : ''));
  if (r.reference?.row && r.reference.row.rank === null) rows.push(rowOf(r.reference.row, ' ◀'));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = new Set(['TP', 'PP', 'DP', 'mbs', 'GAS', 'ZeRO', 'step s', 'tokens/s', 'TFLOP/s logger', '6N', 'peak GB', 'hours', 'GPU-hours', 'cost']);
  const fmt = (cells: string[]) => cells.map((x, i) => (right.has(head[i]!) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [`Top ${r.rows.length} plans by step time (whole run: ${int(r.steps)} steps with evaluation, checkpoints and expected failures)`, fmt(head), ...rows.map(fmt)];
  if (r.reference) out.push(`◀ ${r.reference.label}`);
  if (r.space.notNeox2022 > 0) out.push('† gpt-neox 2022 (DeeperSpeed 0.3.15) could not run this plan');
  return out.join('\n');
}

function closing(r: PlannerResult): string[] {
  const L: string[] = [];
  const best = r.rows[0];
  const ref = r.reference;
  if (!best) {
    L.push('No plan fits: every candidate needs more memory than the GPU has (see --show-dropped).');
    if (ref?.dropped) L.push(`${capital(ref.label)} does not fit either: ${ref.dropped.reason}.`);
    return L;
  }
  if (ref?.dropped) L.push(`${capital(ref.label)} does not fit on this cluster: ${ref.dropped.reason}.`);
  else if (ref?.row && r.comparison) {
    const k = r.comparison;
    const where = ref.row.rank !== null ? `ranks ${ref.row.rank}` : `is not in the top ${r.top}`;
    L.push(`${capital(ref.label)} ${where}: ${sec(k.stepSeconds[1])} per step, ${num(k.totalHours[1])} h for the run.`);
    if (ref.row.rank === 1) L.push('It is the best plan found.');
    else {
      const pct = (100 * (k.stepSeconds[1] - k.stepSeconds[0])) / k.stepSeconds[1];
      L.push(`The best plan is ${k.speedup.toFixed(2)}× as fast per step (${sec(k.stepSeconds[0])}, ${pct.toFixed(1)}% less): ${num(k.totalHours[0])} h instead of ${num(k.totalHours[1])} h for the whole run.`);
    }
  } else if (ref) L.push(`${capital(ref.label)}.`);
  L.push(`Best plan: ${best.key} — ${best.bottleneck.label}.`);
  return L;
}

/** The TP degree, with "+SP" when the plan splits the sequence over the TP group (sequence parallelism). */
export function tpLabel(p: Plan): string {
  return p.sequenceParallel ? `${p.tp}+SP` : String(p.tp);
}

export function schedule(p: Plan): string {
  return p.schedule === 'interleaved' ? `interleaved×${p.virtualStages}` : p.schedule;
}

const int = (x: number) => x.toLocaleString('en-US');
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** Whole numbers with separators from 100 up, `decimals` from 1 up, three significant digits below (tiny models run in milliseconds). */
export const num = (x: number, decimals = 1) =>
  Math.abs(x) >= 100 ? int(Math.round(x)) : Math.abs(x) >= 1 ? x.toFixed(decimals) : Number(x.toPrecision(3)).toString();
const sec = (x: number) => (x >= 1 ? `${x.toFixed(2)} s` : `${num(x * 1e3)} ms`);
const ordinal = (k: number) => `${k}${k % 10 === 1 && k % 100 !== 11 ? 'st' : k % 10 === 2 && k % 100 !== 12 ? 'nd' : k % 10 === 3 && k % 100 !== 13 ? 'rd' : 'th'}`;
