// Fast float32 exp on four lanes for the attention kernels, whose results need float32 accuracy (checked
// against a float64 reference with tolerances), not the reference trainer's bits (those use fdlibm.ts).
import { madd } from './simd';

/**
 * e^x: x = n·ln2 + r with ln2 split in two (Cephes expf), a degree-6 polynomial for e^r, 2^n built in the
 * exponent bits. About 1 ulp on [−87.3, 88.3]; 0 below −87.3 (where e^x is under float32's normal range).
 */
// @ts-ignore: decorator
@inline export function expFast(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(-87.3));
  const xc = f32x4.max(f32x4.min(x, f32x4.splat(88.3)), f32x4.splat(-87.3));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504088896341)));
  let r = madd(n, f32x4.splat(-0.693359375), xc);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const y = madd(f32x4.mul(p, r), r, f32x4.add(r, f32x4.splat(1.0)));
  const twoN = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(y, twoN), under);
}

// @ts-ignore: decorator
@inline export function expFastScalar(x: f32): f32 {
  return f32x4.extract_lane(expFast(f32x4.splat(x)), 0);
}
