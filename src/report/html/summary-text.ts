import type { PlannerResult } from '../../plan/planner.js';
import { num, schedule } from '../../plan/format-text.js';
import type { Plan } from '../../workload/plan-types.js';

/**
 * The report's opening in plain words: how long the run takes, where the time goes, what would help most.
 * Every number is read off the planner's result; nothing is computed here beyond ratios and rounding.
 */
export interface SummaryText {
  howLong: string[];
  whereTimeGoes: string[];
  whatHelps: string[];
}

export function summaryText(r: PlannerResult): SummaryText {
  const best = r.rows[0];
  const s = r.best?.summary;
  if (!best || !s) {
    return { howLong: ['No plan fits in GPU memory on this cluster: every candidate needs more memory than the GPU has.'], whereTimeGoes: [], whatHelps: ['A GPU with more memory (--gpu a100-80gb or h100), more GPUs, or a smaller micro-batch / global batch.'] };
  }
  const c = r.cluster;
  const howLong = [
    `Training ${r.model.label} for ${int(r.steps)} steps on ${c.gpus} × ${c.gpu} takes about ${num(best.totalHours)} hours ` +
      `(${num(best.totalHours / 24)} days, ${num(best.gpuHours)} GPU-hours${best.cost !== null ? `, $${num(best.cost)}` : ''}) with the best plan found: ${words(best.plan)}.`,
  ];
  const ref = r.reference;
  if (ref?.row && r.comparison) {
    howLong.push(
      `${capital(ref.label)} takes ${num(ref.row.totalHours)} hours here` +
        (ref.row.rank === 1 ? '; it is the best plan found.' : `; the best plan is ${r.comparison.speedup.toFixed(2)}× as fast per step.`),
    );
  } else if (ref?.dropped) howLong.push(`${capital(ref.label)} does not fit on this cluster (${ref.dropped.reason}).`);
  else if (ref) howLong.push(`${capital(ref.label)}.`);
  if (r.model.name === 'neox-20b') howLong.push(`For comparison, the GPT-NeoX-20B paper reports ${int(s.run.paper.hours)} hours for ${int(s.run.paper.steps)} steps on ${s.run.paper.gpus} GPUs.`);

  const whatHelps: string[] = [];
  const b = best.bottleneck;
  if (b.lossShare >= 0.05) {
    const advice: Record<typeof b.loss, string> = {
      'pipeline bubble': 'more micro-batches per step (a smaller micro-batch), fewer pipeline stages, or the interleaved schedule',
      'exposed TP communication': 'a smaller tensor-parallel degree, or TP groups kept on NVLink',
      'exposed PP communication': 'fewer pipeline stages, or pipeline neighbours placed closer (rank order)',
      'exposed DP communication': 'overlapping gradient reduction with the backward, a lower ZeRO stage, or more inter-node bandwidth (--nics-per-node, --trunk-links)',
    };
    whatHelps.push(`The largest loss is the ${b.loss} (${pct(b.lossShare)} of the step on the busiest stage): ${advice[b.loss]} would recover most of it.`);
  }
  if (b.computeShare >= 0.8) whatHelps.push(`The GPUs compute ${pct(b.computeShare)} of the step, so the run is compute-bound: faster GPUs (--gpu h100) or more of them shorten it most.`);
  const bigger = (r.scaling?.best ?? []).filter((p) => p.nodes > c.nodes && p.totalHours !== undefined).sort((a, b2) => a.nodes - b2.nodes)[0];
  if (bigger) whatHelps.push(`With ${bigger.nodes} nodes (${bigger.gpus} GPUs) the same plan family would take ${num(bigger.totalHours!)} hours (${num(bigger.gpuHours!)} GPU-hours).`);
  const headroom = c.capacityBytes - best.peakBytes;
  whatHelps.push(`Its peak memory is ${num(best.peakBytes / 1e9)} GB of ${num(c.capacityBytes / 1e9)} GB usable (${num(headroom / 1e9)} GB to spare).`);
  return { howLong, whereTimeGoes: s.step.explanation, whatHelps };
}

export function words(p: Plan): string {
  return `TP ${p.tp} × PP ${p.pp} × DP ${p.dp}, micro-batch ${p.microBatch} × ${p.gradAccumSteps} accumulation steps, ZeRO ${p.zeroStage}, ` +
    `${p.recompute === 'none' ? 'no' : p.recompute} recompute, ${schedule(p)} schedule, ranks ordered ${p.rankOrder.join(',')}`;
}

const int = (x: number) => x.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
