import type { SimulationSummary } from '../../../sim/run/summary.js';
import { axisTitles, chart, COLORS, legend, LEGEND_TOP } from '../svg.js';

/** Where each pipeline stage's step goes: compute by phase, exposed communication, bubble (they add up). */
const PARTS = [
  ['forward', 'forward', COLORS.forward], ['recompute', 'recompute', COLORS.recompute], ['backward', 'backward', COLORS.backward],
  ['optimizer', 'optimizer', COLORS.optimizer], ['exposedTp', 'exposed TP comm', COLORS.tp], ['exposedPp', 'exposed PP comm', COLORS.pp],
  ['exposedDp', 'exposed DP comm', COLORS.dp], ['bubble', 'bubble / waiting', COLORS.bubble],
] as const;

export function stageBreakdownChart(s: SimulationSummary): string {
  const margin = { top: 16, right: 20, bottom: 96, left: 70 };
  const rows = s.step.stages;
  const c = chart('Step-time breakdown per pipeline stage', 'Horizontal stacked bars: seconds of one step per stage by what the compute stream does.', 640, 112 + 34 * rows.length, margin);
  const y = c.d3.scaleBand().domain(rows.map((r) => `stage ${r.pipe}`)).range([0, c.h]).padding(0.25);
  const x = c.d3.scaleLinear().domain([0, s.step.seconds]).nice().range([0, c.w]);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).ticks(8));
  c.plot.append('g').call(c.d3.axisLeft(y));
  for (const r of rows) {
    let acc = 0;
    for (const [k, label, color] of PARTS) {
      const v = r.seconds[k];
      if (v <= 0) continue;
      c.plot.append('rect').attr('x', x(acc)).attr('width', Math.max(0.5, x(acc + v) - x(acc))).attr('y', y(`stage ${r.pipe}`)).attr('height', y.bandwidth()).attr('fill', color)
        .append('title').text(`stage ${r.pipe}: ${label} ${v.toFixed(3)} s (${((100 * v) / s.step.seconds).toFixed(1)}%)`);
      acc += v;
    }
  }
  axisTitles(c, 'seconds of one optimizer step (mean over the stage\'s GPUs)', 'stage', margin);
  legend(c, PARTS.map(([, label, color]) => ({ label, color })), 0, c.h + LEGEND_TOP);
  return c.toString();
}
