import { describe, expect, it } from 'vitest';
import { annealingLr, AnnealingLR } from '../../src/trainer/optim/annealing-lr.js';
import { unscaleFactor } from '../../src/trainer/optim/clip.js';
import { DynamicLossScaler, LossScaleAtMinimumError } from '../../src/trainer/optim/loss-scaler.js';
import { NEOX_20B_LOSS_SCALER, NEOX_20B_SCHEDULE } from '../../src/trainer/trainer.js';

describe('AnnealingLR (gpt-neox 2022) with the 20B schedule', () => {
  // neox-20b.md §3.3 sample values (0.97e-4 peak, warmup 1500, decay 150,000, min 0.97e-5).
  it.each([
    [0, 0],
    [1, 6.4667e-8],
    [750, 4.85e-5],
    [1500, 9.7e-5],
    [50_000, 7.4057e-5],
    [75_000, 5.0023e-5],
    [100_000, 2.5581e-5],
    [120_800, 9.7e-6],
    [150_000, 9.7e-6],
  ])('iteration %i → %f', (it_, want) => {
    const lr = annealingLr(NEOX_20B_SCHEDULE, it_);
    if (want === 0) expect(lr).toBe(0);
    else expect(Math.abs(lr - want) / want).toBeLessThan(5e-5);
  });

  it('the cosine divides by endIter and is capped at endIter − 2·warmup, so the floor is hit near 120,775', () => {
    expect(annealingLr(NEOX_20B_SCHEDULE, 120_700)).toBeGreaterThan(9.7e-6);
    expect(annealingLr(NEOX_20B_SCHEDULE, 120_800)).toBe(9.7e-6);
    // Capped input: every iteration past end − warmup gives the same (clamped) value.
    expect(annealingLr(NEOX_20B_SCHEDULE, 148_500)).toBe(annealingLr(NEOX_20B_SCHEDULE, 200_000));
  });

  it('starts at numIters 0 (lr 0 for the first update) and advances only on step()', () => {
    const s = new AnnealingLR(NEOX_20B_SCHEDULE);
    expect(s.lr()).toBe(0);
    s.step();
    expect(s.lr()).toBeCloseTo(6.4667e-8, 12);
  });

  it('constant style ignores the decay but keeps the warmup', () => {
    const o = { ...NEOX_20B_SCHEDULE, style: 'constant' as const };
    expect(annealingLr(o, 750)).toBeCloseTo(4.85e-5, 15);
    expect(annealingLr(o, 100_000)).toBe(9.7e-5);
  });
});

describe('DynamicLossScaler (DeeperSpeed 0.3.15)', () => {
  const run = (scaler: DynamicLossScaler, overflows: boolean[]) =>
    overflows.map((o) => {
      scaler.update(o);
      return scaler.scale;
    });

  it('doubles after 1000 clean steps: the first doubling is at cur_iter 999', () => {
    const s = new DynamicLossScaler(NEOX_20B_LOSS_SCALER);
    expect(s.scale).toBe(4096);
    const scales = run(s, Array(2000).fill(false));
    expect(scales[998]).toBe(4096);
    expect(scales[999]).toBe(8192);
    expect(scales[1998]).toBe(8192);
    expect(scales[1999]).toBe(16384);
  });

  it('hysteresis 2: the first overflow only spends hysteresis, later ones halve until a window refills it', () => {
    const s = new DynamicLossScaler(NEOX_20B_LOSS_SCALER);
    expect(run(s, [true, true, true, false])).toEqual([4096, 2048, 1024, 1024]);
    // The 1000th update after the last overflow (cur_iter 2) doubles, at cur_iter 1002, and refills hysteresis.
    const clean = run(s, Array(999).fill(false));
    expect(clean.at(-2)).toBe(1024);
    expect(clean.at(-1)).toBe(2048);
    expect(run(s, [true, true])).toEqual([2048, 1024]);
  });

  it('a clean step between overflows does not refill hysteresis (consecutive_hysteresis false)', () => {
    const s = new DynamicLossScaler(NEOX_20B_LOSS_SCALER);
    expect(run(s, [true, false, true, false, true])).toEqual([4096, 4096, 2048, 2048, 1024]);
  });

  it('hysteresis 1 halves on every overflow; the scale never goes below minScale', () => {
    const s = new DynamicLossScaler({ initialScalePower: 3, window: 1000, hysteresis: 1, minScale: 2, raiseErrorAtMinScale: false });
    expect(run(s, [true, true, true, true])).toEqual([4, 2, 2, 2]);
  });

  it('an overflow at the minimum scale raises, leaving the scale as it was', () => {
    const s = new DynamicLossScaler({ initialScalePower: 1, window: 1000, hysteresis: 1, minScale: 1 });
    s.update(true);
    expect(s.scale).toBe(1);
    expect(() => s.update(true)).toThrow(LossScaleAtMinimumError);
    expect(s.scale).toBe(1);
  });
});

describe("DeepSpeed's unscale_and_clip factor", () => {
  it('only unscales when the unscaled norm is below the threshold', () => {
    expect(unscaleFactor(0.5 * 4096, 4096, 1)).toBe(1 / 4096);
  });
  it('clips by (norm/scale + 1e-6)/clip when above it', () => {
    expect(unscaleFactor(3 * 4096, 4096, 1)).toBe(1 / (((3 * 4096) / 4096 + 1e-6) / 1 * 4096));
    expect(unscaleFactor(3, 1, 0.5)).toBeCloseTo(0.5 / 3, 6);
  });
  it('clipGrad 0 disables clipping', () => {
    expect(unscaleFactor(1e9, 2, 0)).toBe(0.5);
  });
});
