import { describe, expect, it } from 'vitest';
import { f16round } from '../../src/backends/f16.js';
import { erf } from '../../src/backends/js/math.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * The scalar building blocks every kernel relies on for exactness: binary16 rounding (against
 * @petamoriken/float16's f16round) and the float64 exp/expm1/tanh/erf ports (against Math.* and the
 * trainer's erf), bit for bit.
 */
const runtime = useRuntimes();
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number) => { u32[0] = b >>> 0; return f32[0]!; };

describe('binary16 rounding of a float32 buffer', () => {
  const hard = [
    0, -0, 1, -1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 - 2 ** -12, 2 ** -25, 3 * 2 ** -25, 2 ** -25 + 2 ** -40, 2 ** -24, 2 ** -14,
    2 ** -14 - 2 ** -25, 2 ** -14 - 2 ** -26, 1.5 * 2 ** -24, 2.5 * 2 ** -24, 65504, 65519, 65519.99609375, 65520, 65536, 1e10,
    Infinity, -Infinity, NaN, -65520, fromBits(0x7f7fffff), fromBits(1), fromBits(0x807fffff), fromBits(0x33000000),
    fromBits(0x33000001), fromBits(0x387fe000), fromBits(0x387ff000), fromBits(0x387fefff), 1e-8, -3.0517578125e-5,
  ].map(Math.fround);
  const r = rng(16);
  const random = Array.from({ length: 200_000 }, () => fromBits((r() + 0.5) * 2 ** 32));
  const near = Array.from({ length: 50_000 }, (_, i) => fromBits(0x33000000 + i * 37)); // binary16 subnormal range

  it('equals f16round on ties, subnormals, overflow, NaN/Inf and 250,000 other floats; counts non-finite results', () => {
    const rt = runtime({ threads: 2 });
    const vals = [...hard, ...random, ...near];
    const x = rt.heap.f32(vals.length);
    x.set(vals);
    const y = rt.heap.f32(vals.length);
    const nonFinite = rt.run('roundF16Blocks', [vals.length, x.byteOffset, y.byteOffset]);
    const want = vals.map((v) => f16round(v));
    expect(sameBits(y, Float32Array.from(want))).toBe(true);
    expect(nonFinite).toBe(want.filter((v) => !Number.isFinite(v)).length);
    // In place, too.
    rt.run('roundF16Blocks', [vals.length, x.byteOffset, x.byteOffset]);
    expect(sameBits(x, y)).toBe(true);
  });
});

describe('float64 math ports', () => {
  const specials = [0, -0, 1, -1, Infinity, -Infinity, NaN, 709.78, 709.79, -745.13, -745.14, 2 ** -28, 2 ** -29, 0.84375, 1.25,
    6, 1 / 0.35, 22, 0.5 * Math.LN2, 1.5 * Math.LN2, 56 * Math.LN2, -56 * Math.LN2, 1e-300, 5e-324, 1e300];
  const r = rng(64);
  const values = [...specials, ...specials.map((x) => -x), ...Array.from({ length: 100_000 }, (_, i) => (i % 2 ? r() * 60 : Math.fround(r() * 8)))];
  const cases = [['exp', 0, Math.exp], ['expm1', 1, Math.expm1], ['tanh', 2, Math.tanh], ['erf', 3, erf]] as const;

  it.each(cases)('%s is bit-identical to the JavaScript reference', (_, which, ref) => {
    const rt = runtime({ threads: 1 });
    let mismatches = 0;
    for (const x of values) if (!Object.is(rt.run('mathProbe', [which, x], false), ref(x))) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('the vectorized float32 exp is fround(Math.exp(x)), around every branch threshold too', () => {
    // All 2.24e9 float32 inputs of the vector range: test/kernels/exhaustive/f32-math.ts (minutes).
    const rt = runtime({ threads: 1 });
    const near: number[] = [];
    for (const c of [0.5 * Math.LN2, 1.5 * Math.LN2, 2 ** -28, 1, 88.5, -104, -87.3, 88.72]) {
      const b = new Float32Array([c]);
      const u = new Uint32Array(b.buffer);
      for (let d = -3000; d <= 3000; d++) {
        const v = new Float32Array(new Uint32Array([u[0]! + d]).buffer)[0]!;
        near.push(v, -v);
      }
    }
    const xs = [...values.map(Math.fround), ...near, NaN, Infinity, -Infinity, -1000, 200];
    let mismatches = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!, y = xs[(i * 7) % xs.length]!;
      if (!Object.is(rt.run('expSimdProbe', [x, y, 0], false), Math.fround(Math.exp(x)))) mismatches++;
      if (!Object.is(rt.run('expSimdProbe', [x, y, 2], false), Math.fround(Math.exp(y)))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it.each(FMA_VARIANTS)('fma=%s: the vectorized float32 exp and erf are the reference\'s bits around every threshold and on random inputs', (fma) => {
    // All float32 inputs of the vector ranges, both builds: test/kernels/exhaustive/f32-math.ts (minutes).
    const rt = runtime({ threads: 1, fma });
    const near = (centres: number[]) => centres.flatMap((c) => {
      const u = new Uint32Array(new Float32Array([c]).buffer)[0]!;
      return Array.from({ length: 2001 }, (_, d) => fromBits(u + d - 1000)).flatMap((v) => [v, -v]);
    });
    const checks = [
      ['expBufferProbe', Math.exp, near([0.5 * Math.LN2, 1.5 * Math.LN2, 2 ** -28, 1, 88.5, 87.33, -87.33, -104, 88.72, 0.001])],
      ['erfBufferProbe', erf, near([2 ** -28, 0.84375, 1.25, 1 / 0.35, 6, 1, 1e-30, 3])],
    ] as const;
    for (const [probe, ref, special] of checks) {
      const xs = [...special, ...values.map(Math.fround), 0, -0, NaN, Infinity, -Infinity];
      while (xs.length % 4) xs.push(0);
      const x = rt.heap.f32(xs.length), y = rt.heap.f32(xs.length);
      x.set(xs);
      rt.run(probe, [x.byteOffset, y.byteOffset, xs.length], false);
      let mismatches = 0;
      for (let i = 0; i < xs.length; i++) if (!Object.is(y[i], Math.fround(ref(x[i]!)))) mismatches++;
      expect(mismatches, probe).toBe(0);
    }
  });
});
