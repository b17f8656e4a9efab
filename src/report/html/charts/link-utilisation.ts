import type { SimulationSummary } from '../../../sim/run/summary.js';
import { axisTitles, chart } from '../svg.js';

/** How busy each class of link was over the step, and the busiest links by name. */
const NAMES: Record<string, string> = {
  nvlink: 'NVSwitch (NVLink)', pcie: 'PCIe', xgmi: 'socket link (xGMI)', hca: 'HCA (InfiniBand NIC)', 'switch-port': 'IB switch ports', trunk: 'switch-to-switch trunk',
};

export function linkUtilisationChart(s: SimulationSummary): string {
  const links = s.step.links;
  const classes = links ? Object.entries(links.byClass) : [];
  const busiest = links?.busiest ?? [];
  const margin = { top: 16, right: 60, bottom: 50 + 16 * busiest.length, left: 170 };
  const c = chart('Link utilisation by class', 'Horizontal bars: bytes carried over the step divided by capacity × step time, per link class; the busiest links are listed below.', 640, 70 + 30 * classes.length + 16 * busiest.length, margin);
  const top = Math.max(0.01, ...classes.map(([, u]) => u.utilisation), ...busiest.map((l) => l.utilisation));
  const x = c.d3.scaleLinear().domain([0, top * 100 * 1.1]).nice().range([0, c.w]);
  const y = c.d3.scaleBand().domain(classes.map(([k]) => NAMES[k] ?? k)).range([0, c.h]).padding(0.25);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x).ticks(6));
  c.plot.append('g').call(c.d3.axisLeft(y));
  for (const [k, u] of classes) {
    c.plot.append('rect').attr('x', 0).attr('y', y(NAMES[k] ?? k)).attr('width', x(100 * u.utilisation)).attr('height', y.bandwidth()).attr('fill', '#4e79a7')
      .append('title').text(`${NAMES[k] ?? k}: ${u.links} links, ${(u.bytes / 1e9).toFixed(1)} GB carried`);
    c.plot.append('text').attr('class', 'value').attr('x', x(100 * u.utilisation) + 4).attr('y', y(NAMES[k] ?? k) + y.bandwidth() / 2 + 4).text(`${(100 * u.utilisation).toFixed(1)}% (${u.links} links)`);
  }
  axisTitles(c, 'utilisation over the step (%)', '', { ...margin, bottom: 36 });
  busiest.forEach((l, i) => {
    c.plot.append('text').attr('class', 'note').attr('x', 0).attr('y', c.h + 52 + 16 * i).text(`busiest ${i + 1}: ${l.name} (${NAMES[l.cls] ?? l.cls}) ${(100 * l.utilisation).toFixed(1)}%`);
  });
  return c.toString();
}
