import { describe, expect, it } from 'vitest';
import { f16Bits, f16FromBits, f16round } from '../../src/backends/f16.js';
import { createJsKernels } from '../../src/backends/js/index.js';
import { erf } from '../../src/backends/js/math.js';

describe('binary16 rounding (roundF16 kernel, every backend dtype)', () => {
  // Spot values from numerics-and-data.md §2, checked there against numpy's direct float64 → float16.
  const cases: [string, number, number][] = [
    ['tie to even (down)', 1 + 2 ** -11, 1],
    ['tie to even (up)', 1 + 3 * 2 ** -11, 1.001953125],
    ['just above a tie: no double rounding', 1 + 2 ** -11 + 2 ** -40, 1.0009765625],
    ['half the smallest subnormal ties to 0', 2 ** -25, 0],
    ['just above it rounds to the smallest subnormal', 2 ** -25 + 2 ** -60, 2 ** -24],
    ['subnormal tie to even', 3 * 2 ** -25, 2 ** -23],
    ['up into the normal range', 2 ** -14 - 2 ** -25, 2 ** -14],
    ['largest finite', 65504, 65504],
    ['below the overflow threshold', 65519.99999999999, 65504],
    ['overflow', 65520, Infinity],
    ['negative overflow', -65520, -Infinity],
    ['underflow to zero', 1e-8, 0],
    ['negative subnormal', -3 * 2 ** -25, -(2 ** -23)],
  ];
  it.each(['f64', 'f32', 'f16'] as const)('%s backend', (dtype) => {
    const K = createJsKernels(dtype);
    const x = new Float64Array(cases.map((c) => c[1]));
    const y = K.alloc(x.length);
    K.roundF16({ n: x.length, x, y });
    cases.forEach(([what, , want], i) => expect(y[i], what).toBe(want));
  });

  it('f16Bits and f16FromBits are inverse on all 65536 patterns (NaNs stay NaN)', () => {
    const bad: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = f16FromBits(bits);
      const isNanPattern = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      const ok = Number.isNaN(v) ? isNanPattern : f16round(v) === v && f16Bits(v) === bits;
      if (!ok) bad.push(bits);
    }
    expect(bad).toEqual([]);
  });

  it('an f16 backend stores binary16 values and keeps statistics in float32', () => {
    const K = createJsKernels('f16');
    const x = K.alloc(8);
    for (let i = 0; i < 8; i++) x[i] = Math.fround(1 + i / 3);
    const y = K.alloc(8);
    const mean = K.alloc(1);
    const rstd = K.alloc(1);
    const one = K.alloc(8).fill(1);
    const zero = K.alloc(8);
    K.layerNorm({ rows: 1, n: 8, x, gamma: one, beta: zero, eps: 1e-5, y, mean, rstd });
    for (const v of y) expect(f16round(v)).toBe(v);
    expect(f16round(mean[0]!)).not.toBe(mean[0]);
  });
});

describe('erf (fdlibm s_erf.c port)', () => {
  // Correctly rounded values from mpmath at 200 bits.
  const ref: [number, number][] = [
    [1e-300, 1.1283791670955126e-300], [1e-10, 1.1283791670955126e-10], [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465], [0.84375, 0.7672256612323416], [0.9, 0.7969082124228322], [1.0, 0.8427007929497149],
    [1.25, 0.9229001282564583], [2.0, 0.9953222650189527], [2.857142857142857, 0.9999466876886117],
    [3.5, 0.9999992569016276], [5.0, 0.9999999999984626], [5.9, 0.9999999999999999], [-0.3, -0.3286267594591274],
    [-1.1, -0.8802050695740817], [-4.2, -0.9999999971445058],
  ];
  it.each(ref)('erf(%s) within 1 ulp of the correctly rounded value', (x, want) => {
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 52);
    expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(ulp);
  });
  it('special values and symmetry', () => {
    expect(erf(0)).toBe(0);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(erf(7)).toBe(1);
    for (const x of [0.2, 0.9, 1.7, 3.1, 4.4]) expect(erf(-x)).toBe(-erf(x));
  });
});
