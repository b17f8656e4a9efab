import { type CheckpointSize, saveSeconds } from './checkpoint.js';
import { type FailureCost, type FailureModel, failureCost } from './failures.js';

/**
 * The whole training run: optimizer steps × simulated step time, plus evaluation (forward-only passes,
 * simulated), plus synchronous checkpoint saves, plus the expected cost of failures.
 * gpt-neox 2022 (`megatron/training.py` train loop): evaluation runs when iteration % eval_interval == 0,
 * eval_iters iterations each (each iteration a forward-only pass over one global batch: DeeperSpeed's
 * `eval_batch` runs the pipeline's inference schedule over all micro-batches); a checkpoint is saved when
 * iteration % save_interval == 0.
 */
export interface RunSpec {
  steps: number;
  stepSeconds: number;
  gpus: number;
  eval: { interval: number; iters: number; iterSeconds: number };
  save: { interval: number; size: CheckpointSize; writeBandwidthPerNode: number };
  failures: FailureModel;
}

/** The GPT-NeoX-20B paper's run, for comparison (neox-20b.md §1.3, §1.5: 150,000 steps, 1,830 h on 96 GPUs). */
export const PAPER_RUN = { steps: 150_000, hours: 1830, gpus: 96, gpuHours: 1830 * 96 } as const;

export interface RunProjection {
  steps: number;
  stepSeconds: number;
  trainingSeconds: number;
  evals: number;
  evalSeconds: number;
  saves: number;
  secondsPerSave: number;
  savingSeconds: number;
  /** Seconds to read a checkpoint back after a failure (at the write bandwidth). */
  reloadSeconds: number;
  /** Training + evaluation + saves, without failures. */
  failureFreeSeconds: number;
  failures: FailureCost;
  totalSeconds: number;
  totalHours: number;
  gpuHours: number;
}

export function projectRun(spec: RunSpec): RunProjection {
  for (const [field, v] of [['steps', spec.steps], ['stepSeconds', spec.stepSeconds], ['gpus', spec.gpus]] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${field} must be a finite number >= 0, got ${v}`);
  }
  const trainingSeconds = spec.steps * spec.stepSeconds;
  const evals = every(spec.steps, spec.eval.interval);
  const evalSeconds = evals * spec.eval.iters * spec.eval.iterSeconds;
  const saves = every(spec.steps, spec.save.interval);
  const secondsPerSave = saveSeconds(spec.save.size, spec.save.writeBandwidthPerNode);
  const savingSeconds = saves * secondsPerSave;
  const failureFreeSeconds = trainingSeconds + evalSeconds + savingSeconds;
  // Without checkpoints a failure loses everything done so far: the interval is the whole run.
  const interval = failureFreeSeconds / Math.max(1, saves);
  const reloadSeconds = saves > 0 ? secondsPerSave : 0;
  const failures = failureCost(failureFreeSeconds, spec.gpus, spec.failures, reloadSeconds, interval);
  const totalSeconds = failures.wallSeconds;
  return {
    steps: spec.steps, stepSeconds: spec.stepSeconds, trainingSeconds, evals, evalSeconds, saves, secondsPerSave,
    savingSeconds, reloadSeconds, failureFreeSeconds, failures, totalSeconds, totalHours: totalSeconds / 3600,
    gpuHours: (totalSeconds / 3600) * spec.gpus,
  };
}

/** How many iterations 1..steps are multiples of `interval` (0 or absent: never). */
function every(steps: number, interval: number): number {
  return interval > 0 ? Math.floor(steps / interval) : 0;
}
