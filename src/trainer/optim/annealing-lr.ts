import { InputError } from '../../common/errors.js';

/**
 * gpt-neox's 2022 `AnnealingLR` (megatron/learning_rates.py @c560814b, neox-20b.md §3.3), quirks kept:
 * the cosine divides by endIter (not endIter − warmup), its input is capped at endIter − 2·warmup, and
 * the result is clamped below by minLr. The scheduler starts at numIters = 0, so the first update uses
 * lr(0) (0 during warmup), and it advances only after non-skipped optimizer steps.
 */
export interface AnnealingLROptions {
  /** Peak learning rate (start_lr). */
  lr: number;
  minLr: number;
  /** warmup_iter = warmup fraction × train_iters in gpt-neox; may be fractional. */
  warmupIters: number;
  /** end_iter = lr_decay_iters. */
  decayIters: number;
  style: 'cosine' | 'constant';
}

export class AnnealingLR {
  numIters = 0;

  constructor(readonly o: AnnealingLROptions) {
    for (const k of ['lr', 'minLr', 'warmupIters', 'decayIters'] as const) {
      if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw InputError.field('schedule', k, 'a finite number ≥ 0', o[k]);
    }
  }

  /** The learning rate for the next update (get_lr at the current numIters). */
  lr(): number {
    return annealingLr(this.o, this.numIters);
  }

  /** lr_scheduler.step(): called after every optimizer step that was not skipped. */
  step(): void {
    this.numIters += 1;
  }
}

export function annealingLr(o: AnnealingLROptions, numIters: number): number {
  let n = Math.min(numIters, o.decayIters - o.warmupIters);
  if (o.warmupIters > 0 && numIters <= o.warmupIters) return (o.lr * n) / o.warmupIters;
  n -= o.warmupIters;
  const lr = o.style === 'cosine' ? (o.lr / 2.0) * (Math.cos((Math.PI * n) / o.decayIters) + 1) : o.lr;
  return Math.max(lr, o.minLr);
}
