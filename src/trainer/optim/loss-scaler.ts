import { InputError } from '../../common/errors.js';

/**
 * DeepSpeed's DynamicLossScaler as in DeeperSpeed 0.3.15 (runtime/fp16/loss_scaler.py, neox-20b.md §3.4),
 * with consecutive_hysteresis false. An overflow first spends hysteresis; once it is spent each overflow
 * halves the scale (not below minScale; an overflow at minScale with no hysteresis left is an error).
 * Every scaleWindow-th clean step since the last overflow doubles the scale and refills the hysteresis.
 * update() runs once per optimizer step, skipped steps included.
 */
export interface LossScalerOptions {
  /** 2^initialScalePower is the first scale (gpt-neox 20B: 12). */
  initialScalePower: number;
  window: number;
  hysteresis: number;
  minScale: number;
  /** DeepSpeed raises at minimum scale; false clamps there instead. */
  raiseErrorAtMinScale?: boolean;
}

export class LossScaleAtMinimumError extends Error {
  override readonly name = 'LossScaleAtMinimumError';
}

export class DynamicLossScaler {
  scale: number;
  private curIter = 0;
  private lastOverflowIter = -1;
  private hysteresisLeft: number;

  constructor(private readonly o: LossScalerOptions) {
    if (!(Number.isInteger(o.initialScalePower) && o.initialScalePower >= 0 && o.initialScalePower <= 64)) {
      throw InputError.field('lossScaler', 'initialScalePower', 'an integer in [0, 64]', o.initialScalePower);
    }
    if (!(Number.isInteger(o.window) && o.window >= 1)) throw InputError.field('lossScaler', 'window', 'an integer ≥ 1', o.window);
    if (!(Number.isInteger(o.hysteresis) && o.hysteresis >= 1)) throw InputError.field('lossScaler', 'hysteresis', 'an integer ≥ 1', o.hysteresis);
    if (!(o.minScale > 0)) throw InputError.field('lossScaler', 'minScale', 'a number > 0', o.minScale);
    this.scale = 2 ** o.initialScalePower;
    this.hysteresisLeft = o.hysteresis;
  }

  /** Throws LossScaleAtMinimumError before changing anything when the scale cannot go lower. */
  update(overflow: boolean): void {
    if (overflow) {
      if (this.o.hysteresis === 1 || this.hysteresisLeft === 1) {
        if (this.scale === this.o.minScale && (this.o.raiseErrorAtMinScale ?? true)) {
          throw new LossScaleAtMinimumError('Current loss scale already at minimum - cannot decrease scale anymore. Exiting run.');
        }
        this.scale = Math.max(this.scale / 2, this.o.minScale);
      } else {
        this.hysteresisLeft -= 1;
      }
      this.lastOverflowIter = this.curIter;
    } else if ((this.curIter - this.lastOverflowIter) % this.o.window === 0) {
      this.hysteresisLeft = this.o.hysteresis;
      this.scale *= 2;
    }
    this.curIter += 1;
  }
}
