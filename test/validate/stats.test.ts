import { describe, expect, it } from 'vitest';
import { errorPct, errorStats } from '../../src/validate/stats.js';

describe('error arithmetic', () => {
  it('error = (predicted − published) / published, percent: negative when the prediction is faster', () => {
    expect(errorPct(90, 100)).toBeCloseTo(-10, 12);
    expect(errorPct(32.704, 43.92)).toBeCloseTo(-25.537, 3);
    expect(errorPct(110, 100)).toBeCloseTo(10, 12);
  });

  it('mean absolute error, signed bias, spread around the bias and the largest error with its run', () => {
    const s = errorStats([{ id: 'a', errorPct: -10 }, { id: 'b', errorPct: -20 }, { id: 'c', errorPct: 6 }])!;
    expect(s.runs).toBe(3);
    expect(s.meanAbsPct).toBeCloseTo(12, 12);
    expect(s.biasPct).toBeCloseTo(-8, 12);
    expect(s.spreadPct).toBeCloseTo(Math.sqrt((4 + 144 + 196) / 3), 12);
    expect([s.maxAbsPct, s.maxId]).toEqual([20, 'b']);
    expect(errorStats([])).toBeUndefined();
  });
});
