import type { StepTimeline } from '../../../plan/step-timeline.js';
import { axisTitles, chart, COLORS, legend, LEGEND_TOP } from '../svg.js';

/** One step of one data-parallel replica: a row per GPU, compute above, communication below, over time. */
export function pipelineTimelineChart(t: StepTimeline): string {
  const margin = { top: 12, right: 16, bottom: 92, left: 150 };
  const rowH = 26;
  const c = chart('Pipeline timeline of one step', 'GPUs of one data-parallel replica against time: compute phases on the upper band, communication on the lower band.', 960, 104 + rowH * t.rows.length, margin);
  const x = c.d3.scaleLinear().domain([0, t.stepSeconds]).range([0, c.w]);
  const label = (r: StepTimeline['rows'][number]) => `GPU ${r.gpu} · stage ${r.pipe} · TP ${r.model}`;
  const y = c.d3.scaleBand().domain(t.rows.map(label)).range([0, c.h]).paddingInner(0.2);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).ticks(10));
  c.plot.append('g').call(c.d3.axisLeft(y).tickSize(0));
  const band = y.bandwidth();
  for (const s of t.segments) {
    const top = y(label(t.rows[s.row]!)) + (s.lane === 0 ? 0 : band * 0.62);
    c.plot.append('rect').attr('x', x(s.start)).attr('width', Math.max(0.4, x(s.end) - x(s.start))).attr('y', top).attr('height', band * (s.lane === 0 ? 0.58 : 0.38))
      .attr('fill', COLORS[s.kind]).append('title').text(`${s.kind} ${s.start.toFixed(3)}–${s.end.toFixed(3)} s`);
  }
  axisTitles(c, 'seconds into the step', '', margin);
  legend(c, [
    { label: 'forward', color: COLORS.forward }, { label: 'recompute', color: COLORS.recompute }, { label: 'backward', color: COLORS.backward },
    { label: 'optimizer', color: COLORS.optimizer }, { label: 'TP all-reduce', color: COLORS.tp }, { label: 'pipeline send/recv', color: COLORS.pp },
    { label: 'DP / ZeRO collectives', color: COLORS.dp },
  ], 0, c.h + LEGEND_TOP);
  return c.toString();
}
