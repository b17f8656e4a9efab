import type { StageBreakdown, TimeBreakdown } from './breakdown.js';

/** Seconds of compute in a breakdown. */
export const computeSeconds = (b: TimeBreakdown) => b.forward + b.recompute + b.backward + b.optimizer;

/** The stage whose GPUs compute the longest: it sets the pace of the pipeline. */
export function busiestStage(stages: readonly StageBreakdown[]): StageBreakdown {
  return stages.reduce((best, s) => (computeSeconds(s.mean) > computeSeconds(best.mean) ? s : best), stages[0]!);
}

const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
const sec = (x: number) => (x >= 1 ? `${x.toFixed(2)} s` : `${(x * 1e3).toFixed(1)} ms`);

export interface ExplainInput {
  stepSeconds: number;
  stages: readonly StageBreakdown[];
  pp: number;
  microBatches: number;
  /** Virtual stages per GPU (interleaved schedule), 1 otherwise. */
  virtualStages: number;
  /** The link class that bounded most of each kind's transfer time, where known. */
  commBound: { tp?: string; pp?: string; dp?: string };
}

/**
 * Where the time goes, in a few plain sentences: compute share on the busiest stage, the pipeline bubble
 * against its textbook value, each kind of communication (running, hidden, exposed), and the largest loss.
 */
export function explainStep(x: ExplainInput): string[] {
  const T = x.stepSeconds;
  const s = busiestStage(x.stages);
  const b = s.mean;
  const out: string[] = [];
  const compute = computeSeconds(b);
  out.push(
    `Stage ${s.pipe} computes longest: ${sec(compute)} of the ${sec(T)} step (${pct(compute, T)}): forward ${sec(b.forward)}, ` +
      `recompute ${sec(b.recompute)}, backward ${sec(b.backward)}, optimizer ${sec(b.optimizer)}.`,
  );
  const ideal = x.pp > 1 ? (x.pp - 1) / (x.virtualStages * x.microBatches + x.pp - 1) : 0;
  out.push(
    `Pipeline bubble and waiting on other ranks: ${sec(b.bubble)} (${pct(b.bubble, T)}) on stage ${s.pipe}; ` +
      `with ${x.microBatches} micro-batches on ${x.pp} stage${x.pp > 1 ? 's' : ''} the textbook ${x.virtualStages > 1 ? 'interleaved ' : ''}bubble is ${(100 * ideal).toFixed(1)}% of a step.`,
  );
  const kinds = [
    ['Tensor-parallel all-reduces', b.commTp, b.hiddenTp, b.exposedTp, x.commBound.tp],
    ['Pipeline transfers', b.commPp, b.hiddenPp, b.exposedPp, x.commBound.pp],
    ['Data-parallel / ZeRO collectives', b.commDp, b.hiddenDp, b.exposedDp, x.commBound.dp],
  ] as const;
  for (const [name, running, hidden, exposed, bound] of kinds) {
    if (running <= 0 && exposed <= 0) continue;
    out.push(
      `${name} run ${sec(running)} per step on stage ${s.pipe}, ${sec(hidden)} hidden behind compute, ${sec(exposed)} exposed ` +
        `(${pct(exposed, T)} of the step)${bound ? `; mostly limited by ${bound}` : ''}.`,
    );
  }
  const losses: [string, number][] = [
    ['the pipeline bubble', b.bubble],
    ['exposed tensor-parallel communication', b.exposedTp],
    ['exposed pipeline communication', b.exposedPp],
    ['exposed data-parallel communication', b.exposedDp],
  ];
  const [what, loss] = losses.reduce((m, l) => (l[1] > m[1] ? l : m));
  out.push(
    loss > 0.05 * T
      ? `Bottleneck: compute (${pct(compute, T)} busy); the largest loss is ${what} (${pct(loss, T)} of the step).`
      : `Bottleneck: compute — every loss is under 5% of the step; ${what} is the largest (${pct(loss, T)}).`,
  );
  return out;
}
