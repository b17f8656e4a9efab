import type { ScalingPoint } from '../../../plan/scaling.js';
import { axisTitles, chart, legend, LEGEND_TOP } from '../svg.js';

/** Total hours of the run against cluster size, for the best plan's family and the run's own plan's. */
export function hoursVsNodesChart(s: { best: ScalingPoint[]; reference: ScalingPoint[] | null }, currentNodes: number, pricePerGpuHour: number | null): string {
  const margin = { top: 20, right: 90, bottom: 80, left: 64 };
  // Labels of the best family below its points, the reference's above: the two lines run close together.
  const series = [
    { name: 'best plan\'s family', cls: 'series', dot: 'fits', points: s.best, dy: 16 },
    ...(s.reference ? [{ name: 'run\'s own plan\'s family', cls: 'series reference', dot: 'reference', points: s.reference, dy: -8 }] : []),
  ];
  const all = series.flatMap((x) => x.points);
  const ok = all.filter((p) => p.totalHours !== undefined);
  const c = chart('Total hours against cluster size', 'Lines: wall-clock hours of the whole run at each node count, for the best plan\'s family and the run\'s own plan\'s; labels give hours and cost.', 640, 340, margin);
  const nodes = [...new Set(all.map((p) => p.nodes))].sort((a, b) => a - b);
  const x = c.d3.scaleLog().base(2).domain([nodes[0]!, nodes[nodes.length - 1]!]).range([0, c.w]);
  const y = c.d3.scaleLinear().domain([0, Math.max(1, ...ok.map((p) => p.totalHours!)) * 1.15]).nice().range([c.h, 0]);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).tickValues(nodes).tickFormat((n: number) => String(n)));
  c.plot.append('g').call(c.d3.axisLeft(y).ticks(6));
  for (const sr of series) {
    const pts = sr.points.filter((p) => p.totalHours !== undefined);
    if (pts.length > 1) c.plot.append('path').attr('class', sr.cls).attr('d', c.d3.line().x((p: ScalingPoint) => x(p.nodes)).y((p: ScalingPoint) => y(p.totalHours!))(pts));
    for (const p of pts) {
      const g = c.plot.append('g').attr('transform', `translate(${x(p.nodes)},${y(p.totalHours!)})`);
      g.append('circle').attr('class', `pt ${sr.dot}`).attr('r', p.nodes === currentNodes ? 6 : 4)
        .append('title').text(`${sr.name}, ${p.nodes} nodes (${p.gpus} GPUs): ${Math.round(p.totalHours!)} h, ${Math.round(p.gpuHours!)} GPU-hours${p.trunkLinks !== undefined ? `, trunk ${p.trunkLinks} links` : ''}`);
      const cost = pricePerGpuHour !== null ? `, $${Math.round(p.gpuHours! * pricePerGpuHour).toLocaleString('en-US')}` : '';
      g.append('text').attr('class', 'value').attr('x', 7).attr('y', sr.dy).text(`${Math.round(p.totalHours!).toLocaleString('en-US')} h${cost}`);
    }
  }
  for (const n of nodes.filter((k) => !ok.some((p) => p.nodes === k))) {
    const why = all.filter((p) => p.nodes === n).map((p) => p.skipped ?? 'not simulated');
    c.plot.append('text').attr('class', 'skipped').attr('x', x(n)).attr('y', c.h - 6).attr('text-anchor', 'middle').text('×').append('title').text(`${n} nodes: ${[...new Set(why)].join('; ')}`);
  }
  c.plot.append('line').attr('class', 'current').attr('x1', x(currentNodes)).attr('x2', x(currentNodes)).attr('y1', 0).attr('y2', c.h);
  axisTitles(c, 'nodes (log scale); dashed: this cluster', 'total hours for the run', margin);
  legend(c, [
    { label: 'best plan\'s family', color: '#4e79a7' }, ...(s.reference ? [{ label: 'run\'s own plan\'s family', color: '#f28e2b' }] : []),
    { label: '× nothing fits / batch does not divide (hover)', color: '#bbb' },
  ], 0, c.h + LEGEND_TOP);
  return c.toString();
}
