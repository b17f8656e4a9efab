import type { SimulationSummary } from '../../../sim/run/summary.js';
import { axisTitles, chart, legend, LEGEND_TOP } from '../svg.js';

/** Peak memory per GPU, stacked by category, for each pipeline stage, against the GPU's capacity. */
const GROUPS: { label: string; color: string; categories: string[] }[] = [
  { label: 'fp16 parameters', color: '#4e79a7', categories: ['fp16-params', 'gathered-params'] },
  { label: 'gradients', color: '#76b7b2', categories: ['fp16-grads', 'fp32-grads'] },
  { label: 'fp32 master + Adam', color: '#59a14f', categories: ['fp32-master', 'adam-m', 'adam-v'] },
  { label: 'checkpointed activations', color: '#f28e2b', categories: ['checkpointed-activations'] },
  { label: 'stored activations', color: '#ffbe7d', categories: ['stored-activations'] },
  { label: 'recompute working set', color: '#e15759', categories: ['recompute-working-set'] },
  { label: 'ZeRO buckets', color: '#b07aa1', categories: ['comm-buckets'] },
  { label: 'logits', color: '#9c755f', categories: ['logits'] },
  { label: 'pipeline buffers', color: '#bab0ac', categories: ['p2p-buffers'] },
  { label: 'runtime (CUDA context, NCCL, cuBLAS)', color: '#d4a6c8', categories: ['runtime'] },
];

export function memoryBarsChart(s: SimulationSummary): string {
  const margin = { top: 20, right: 150, bottom: 110, left: 56 };
  const stages = s.memory.stages;
  const c = chart('Peak memory per GPU by pipeline stage', 'Stacked bars: memory at each stage\'s peak by category, in GB, against the GPU capacity line.', 640, 380, margin);
  const GB = 1e9;
  const top = Math.max(s.memory.nominalBytes, ...stages.map((st) => st.peakBytes)) / GB;
  const x = c.d3.scaleBand().domain(stages.map((st) => `stage ${st.pipe}`)).range([0, c.w]).padding(0.3);
  const y = c.d3.scaleLinear().domain([0, top * 1.08]).nice().range([c.h, 0]);
  c.plot.append('g').attr('transform', `translate(0,${c.h})`).call(c.d3.axisBottom(x));
  c.plot.append('g').call(c.d3.axisLeft(y).ticks(6));
  for (const st of stages) {
    let acc = 0;
    for (const g of GROUPS) {
      const bytes = g.categories.reduce((a, k) => a + (st.byCategory[k as keyof typeof st.byCategory] ?? 0), 0);
      if (bytes <= 0) continue;
      c.plot.append('rect').attr('x', x(`stage ${st.pipe}`)).attr('width', x.bandwidth())
        .attr('y', y((acc + bytes) / GB)).attr('height', y(acc / GB) - y((acc + bytes) / GB)).attr('fill', g.color)
        .append('title').text(`stage ${st.pipe}: ${g.label} ${(bytes / GB).toFixed(2)} GB`);
      acc += bytes;
    }
    c.plot.append('text').attr('class', 'value').attr('x', x(`stage ${st.pipe}`)! + x.bandwidth() / 2).attr('y', y(acc / GB) - 4).attr('text-anchor', 'middle').text(`${(acc / GB).toFixed(1)}`);
  }
  for (const [bytes, label, cls] of [[s.memory.nominalBytes, `${(s.memory.nominalBytes / GB).toFixed(1)} GB (${(s.memory.nominalBytes / 2 ** 30).toFixed(0)} GiB) per GPU`, 'limit'], [s.memory.capacityBytes, `${(s.memory.capacityBytes / GB).toFixed(1)} GB usable`, 'usable']] as const) {
    c.plot.append('line').attr('class', cls).attr('x1', 0).attr('x2', c.w).attr('y1', y(bytes / GB)).attr('y2', y(bytes / GB));
    c.plot.append('text').attr('class', 'line-label').attr('x', c.w + 4).attr('y', y(bytes / GB) + (cls === 'limit' ? -2 : 10)).text(label);
  }
  axisTitles(c, 'pipeline stage (highest GPU of each)', 'GB at the peak', margin);
  const present = GROUPS.filter((g) => stages.some((st) => g.categories.some((k) => (st.byCategory[k as keyof typeof st.byCategory] ?? 0) > 0)));
  legend(c, present.map((g) => ({ label: g.label, color: g.color })), 0, c.h + LEGEND_TOP);
  return c.toString();
}
