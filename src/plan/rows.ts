import { computeSeconds } from '../sim/breakdown/explain.js';
import type { SimulationSummary } from '../sim/run/summary.js';
import type { Plan } from '../workload/plan-types.js';
import { neox2022Limit } from './enumerate.js';
import type { SimulatedPlan } from './search.js';

/** One line of the ranked table: a simulated plan and what it means for the whole run. */
export interface PlanRow {
  rank: number | null;
  key: string;
  plan: Plan;
  stepSeconds: number;
  tokensPerSecond: number;
  /** TFLOP/s per GPU under the gpt-neox 2022 logger's formula and under 6·N. */
  tflopsPerGpu: { logger: number; sixN: number };
  peakBytes: number;
  totalHours: number;
  gpuHours: number;
  /** gpuHours × price, when a price is given. */
  cost: number | null;
  bottleneck: Bottleneck;
  /** Why gpt-neox 2022 could not run it, if it could not. */
  notNeox2022: string | null;
}

export interface Bottleneck {
  /** Busy share of the slowest stage's compute stream. */
  computeShare: number;
  /** The largest loss on that stage and its share of the step. */
  loss: 'pipeline bubble' | 'exposed TP communication' | 'exposed PP communication' | 'exposed DP communication';
  lossShare: number;
  /** Short label, e.g. "compute 91% · bubble 5%". */
  label: string;
}

export function planRow(s: SimulatedPlan & { summary: SimulationSummary }, rank: number | null, pricePerGpuHour?: number): PlanRow {
  const m = s.summary;
  return {
    rank, key: s.key, plan: s.plan, stepSeconds: m.step.seconds, tokensPerSecond: m.step.rates.tokensPerSecond,
    tflopsPerGpu: { logger: m.step.rates.neoxLogger2022.tflopsPerGpu, sixN: m.step.rates.sixN.tflopsPerGpu },
    peakBytes: s.peakBytes, totalHours: m.run.totalHours, gpuHours: m.run.gpuHours,
    cost: pricePerGpuHour !== undefined ? m.run.gpuHours * pricePerGpuHour : null,
    bottleneck: bottleneckOf(m), notNeox2022: neox2022Limit(s.plan) ?? null,
  };
}

const SHORT: Record<Bottleneck['loss'], string> = {
  'pipeline bubble': 'bubble', 'exposed TP communication': 'TP comm', 'exposed PP communication': 'PP comm', 'exposed DP communication': 'DP comm',
};

/** Where the busiest stage's step goes: its compute share and its largest loss (the simulator's breakdown). */
export function bottleneckOf(m: SimulationSummary): Bottleneck {
  const stage = m.step.stages.find((s) => s.pipe === m.step.busiestStage) ?? m.step.stages[0]!;
  const b = stage.seconds;
  const T = m.step.seconds;
  const losses: [Bottleneck['loss'], number][] = [
    ['pipeline bubble', b.bubble], ['exposed TP communication', b.exposedTp], ['exposed PP communication', b.exposedPp], ['exposed DP communication', b.exposedDp],
  ];
  const [loss, seconds] = losses.reduce((a, l) => (l[1] > a[1] ? l : a));
  const computeShare = computeSeconds(b) / T;
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  return { computeShare, loss, lossShare: seconds / T, label: `compute ${pct(computeShare)} · ${SHORT[loss]} ${pct(seconds / T)}` };
}
