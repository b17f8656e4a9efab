import type { ScalingPoint } from '../../../plan/scaling.js';
import { axisTitles, chart, legend, LEGEND_TOP } from '../svg.js';

/** Total hours of the run against cluster size for the best plan's family (and cost when priced). */
export function hoursVsNodesChart(points: ScalingPoint[], currentNodes: number, pricePerGpuHour: number | null): string {
  const margin = { top: 20, right: 70, bottom: 80, left: 64 };
  const ok = points.filter((p) => p.totalHours !== undefined);
  const c = chart('Total hours against cluster size', 'Line: wall-clock hours of the whole run for the best plan family at each node count; labels give GPU-hours.', 640, 340, margin);
  const x = c.d3.scaleLog().base(2).domain([Math.min(...points.map((p) => p.nodes)), Math.max(...points.map((p) => p.nodes))]).range([0, c.w]);
  const y = c.d3.scaleLinear().domain([0, Math.max(1, ...ok.map((p) => p.totalHours!)) * 1.15]).nice().range([c.h, 0]);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).tickValues(points.map((p) => p.nodes)).tickFormat((n: number) => String(n)));
  c.plot.append('g').call(c.d3.axisLeft(y).ticks(6));
  if (ok.length > 1) {
    const line = c.d3.line().x((p: ScalingPoint) => x(p.nodes)).y((p: ScalingPoint) => y(p.totalHours!));
    c.plot.append('path').attr('class', 'series').attr('d', line(ok));
  }
  for (const p of ok) {
    const g = c.plot.append('g').attr('transform', `translate(${x(p.nodes)},${y(p.totalHours!)})`);
    g.append('circle').attr('class', p.nodes === currentNodes ? 'pt best' : 'pt fits').attr('r', p.nodes === currentNodes ? 6 : 4)
      .append('title').text(`${p.nodes} nodes (${p.gpus} GPUs): ${Math.round(p.totalHours!)} h, ${Math.round(p.gpuHours!)} GPU-hours${p.trunkLinks !== undefined ? `, trunk ${p.trunkLinks} links` : ''}`);
    const cost = pricePerGpuHour !== null ? `, $${Math.round(p.gpuHours! * pricePerGpuHour).toLocaleString('en-US')}` : '';
    g.append('text').attr('class', 'value').attr('x', 6).attr('y', -8).text(`${Math.round(p.totalHours!)} h${cost}`);
  }
  for (const p of points.filter((q) => q.totalHours === undefined)) {
    c.plot.append('text').attr('class', 'skipped').attr('x', x(p.nodes)).attr('y', c.h - 6).attr('text-anchor', 'middle').text('×')
      .append('title').text(`${p.nodes} nodes: ${p.skipped ?? 'not simulated'}`);
  }
  axisTitles(c, 'nodes (log scale)', 'total hours for the run', margin);
  legend(c, [{ label: 'simulated size', color: '#4e79a7' }, { label: 'this cluster', color: '#59a14f' }, { label: '× not possible (hover for why)', color: '#bbb' }], 0, c.h + LEGEND_TOP);
  return c.toString();
}
