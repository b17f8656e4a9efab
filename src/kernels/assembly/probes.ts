// Scalar entry points to the float64 math ports, so tests can compare them with Math.* bit for bit.
import { erf64, exp64, expm1_64, tanh64 } from './fdlibm';
import { madd } from './simd';
import { expf32x4, tanhf32x4 } from './fdlibm-simd';
import { erff32x4 } from './erf-simd';

/** which: 0 exp, 1 expm1, 2 tanh, 3 erf. */
export function mathProbe(which: i32, x: f64): f64 {
  if (which == 0) return exp64(x);
  if (which == 1) return expm1_64(x);
  if (which == 2) return tanh64(x);
  return erf64(x);
}

/**
 * A chain of n·16 dependent shift-and-add steps, for measuring the clock: each step needs the previous
 * result, and a shift and an add take one cycle each on any x86-64 or arm64 core, so the chain runs at
 * 2 cycles per step whatever the machine.
 */
export function clockProbe(n: i32, x: i32): i32 {
  for (let i = 0; i < n; i++) {
    x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1;
    x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1; x += x >> 1;
  }
  return x;
}

/**
 * n iterations of 12 independent f32x4 multiply-adds (96 flops per iteration, no memory traffic): the
 * attainable 128-bit SIMD rate of one core, for comparison with the derived peak.
 */
export function fmaPeakProbe(n: i32, s: f32): f32 {
  let a0 = f32x4.splat(s), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < n; i++) {
    a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
    a4 = madd(a4, m, c); a5 = madd(a5, m, c); a6 = madd(a6, m, c); a7 = madd(a7, m, c);
    a8 = madd(a8, m, c); a9 = madd(a9, m, c); a10 = madd(a10, m, c); a11 = madd(a11, m, c);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(t, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}

/** expf32x4 on (x, x, y, y), lane `lane` (0 or 2) of the result: for the bit-for-bit test against Math.exp. */
export function expSimdProbe(x: f32, y: f32, lane: i32): f32 {
  const r = expf32x4(f32x4(x, x, y, y));
  return lane == 0 ? f32x4.extract_lane(r, 0) : f32x4.extract_lane(r, 2);
}

/** y[i] = expf32x4 of x[i] (n a multiple of 4): the exhaustive float32 check runs through this. */
export function expBufferProbe(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(y + ((<usize>i) << 2), expf32x4(v128.load(x + ((<usize>i) << 2))));
}

/** y[i] = tanhf32x4 of x[i] (n a multiple of 4), for the exhaustive float32 check. */
export function tanhBufferProbe(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(y + ((<usize>i) << 2), tanhf32x4(v128.load(x + ((<usize>i) << 2))));
}

/** y[i] = erff32x4 of x[i] (n a multiple of 4), for the exhaustive float32 check. */
export function erfBufferProbe(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(y + ((<usize>i) << 2), erff32x4(v128.load(x + ((<usize>i) << 2))));
}
