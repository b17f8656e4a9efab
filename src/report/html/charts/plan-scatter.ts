import { axisTitles, chart, legend, LEGEND_TOP } from '../svg.js';

/** The simulated plan space: step time against peak memory, the Pareto front, the best and the reference. */
export interface ScatterInput {
  points: { key: string; stepSeconds: number; peakBytes: number; fits: boolean }[];
  pareto: string[];
  capacityBytes: number;
  bestKey?: string;
  referenceKey?: string;
}

export function planScatterChart(p: ScatterInput): string {
  const margin = { top: 16, right: 24, bottom: 80, left: 60 };
  const c = chart('Plan space: step time against peak memory', 'Each simulated plan as a point; the line joins the Pareto-optimal plans (no other plan is both faster and smaller).', 640, 380, margin);
  const GB = 1e9;
  const xs = p.points.map((q) => q.peakBytes / GB);
  const ys = p.points.map((q) => q.stepSeconds);
  const x = c.d3.scaleLinear().domain([Math.min(...xs, p.capacityBytes / GB) * 0.9, Math.max(...xs, p.capacityBytes / GB) * 1.05]).nice().range([0, c.w]);
  const y = c.d3.scaleLinear().domain([Math.min(...ys) * 0.97, Math.max(...ys) * 1.03]).nice().range([c.h, 0]);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).ticks(8));
  c.plot.append('g').call(c.d3.axisLeft(y).ticks(6));
  c.plot.append('line').attr('class', 'usable').attr('x1', x(p.capacityBytes / GB)).attr('x2', x(p.capacityBytes / GB)).attr('y1', 0).attr('y2', c.h);
  c.plot.append('text').attr('class', 'line-label').attr('x', x(p.capacityBytes / GB) - 4).attr('y', 10).attr('text-anchor', 'end').text('usable memory');
  const front = p.points.filter((q) => p.pareto.includes(q.key)).sort((a, b) => a.peakBytes - b.peakBytes);
  if (front.length > 1) {
    const line = c.d3.line().x((q: (typeof front)[number]) => x(q.peakBytes / GB)).y((q: (typeof front)[number]) => y(q.stepSeconds)).curve(c.d3.curveStepAfter);
    c.plot.append('path').attr('class', 'pareto').attr('d', line(front));
  }
  for (const q of p.points) {
    const special = q.key === p.bestKey ? 'best' : q.key === p.referenceKey ? 'reference' : q.fits ? 'fits' : 'over';
    c.plot.append('circle').attr('class', `pt ${special}`).attr('cx', x(q.peakBytes / GB)).attr('cy', y(q.stepSeconds)).attr('r', special === 'best' || special === 'reference' ? 6 : 3.5)
      .append('title').text(`${q.key}: ${q.stepSeconds.toFixed(2)} s, ${(q.peakBytes / GB).toFixed(1)} GB${q.fits ? '' : ' (does not fit)'}`);
  }
  axisTitles(c, 'peak memory per GPU (GB)', 'step time (s)', margin);
  legend(c, [
    { label: 'fits', color: '#4e79a7' }, { label: 'over capacity', color: '#e15759' }, { label: 'best', color: '#59a14f' },
    { label: 'run\'s own plan', color: '#f28e2b' }, { label: 'Pareto front', color: '#222' },
  ], 0, c.h + LEGEND_TOP);
  return c.toString();
}
