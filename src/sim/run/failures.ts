/**
 * Expected-value failure/restart model for a long training run.
 *
 * Failures arrive as a Poisson process at rate λ = GPUs / MTBF(per GPU). Each failure costs a restart
 * (detect, relaunch, reload the last checkpoint) plus the work done since the last checkpoint, on average
 * half a checkpoint interval (failures fall uniformly within intervals). Lost work is itself exposed to
 * failures, so the wall time T solves T = T₀ + λ·T·c with c = restart + interval / 2:
 *   T = T₀ / (1 − λ·c),  expected failures = λ·T.
 * If λ·c ≥ 1 the run never finishes in expectation (it fails faster than it can reach a checkpoint).
 */
export interface FailureModel {
  /** Mean time between failures of one GPU (the whole server's failures attributed per GPU), hours. */
  mtbfHoursPerGpu: number;
  /** Detect + relaunch time per failure, seconds (the checkpoint reload is added separately). */
  restartSeconds: number;
}

export interface FailureCost {
  /** Failures per second of wall time for the whole job. */
  rate: number;
  expectedFailures: number;
  /** Seconds one failure costs on average: restart + reload + half an interval of lost work. */
  costPerFailure: number;
  /** Expected seconds lost to failures in total. */
  lostSeconds: number;
  /** Wall time including failures, seconds (Infinity when the run cannot finish). */
  wallSeconds: number;
}

export function failureCost(failureFreeSeconds: number, gpus: number, model: FailureModel, reloadSeconds: number, checkpointIntervalSeconds: number): FailureCost {
  const rate = model.mtbfHoursPerGpu === Infinity ? 0 : gpus / (model.mtbfHoursPerGpu * 3600);
  const costPerFailure = model.restartSeconds + reloadSeconds + checkpointIntervalSeconds / 2;
  const exposure = rate * costPerFailure;
  if (exposure >= 1) return { rate, expectedFailures: Infinity, costPerFailure, lostSeconds: Infinity, wallSeconds: Infinity };
  const wallSeconds = failureFreeSeconds / (1 - exposure);
  return { rate, expectedFailures: rate * wallSeconds, costPerFailure, lostSeconds: wallSeconds - failureFreeSeconds, wallSeconds };
}
