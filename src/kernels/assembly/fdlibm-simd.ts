// fdlibm's exp (fdlibm.ts exp64) on two float64 lanes, for float32 results: every kernel that needs
// fround(Math.exp(x)) of float32 lanes gets it from expf32x4, bit for bit.
//
// Per lane the operations are exp64's. Its branches become arithmetic: with k forced to 0 where exp64 does
// not reduce (|x| ≤ ½ln2 by its high-word test), hi = x, lo = 0 and its k ≠ 0 formula
// 1 − ((lo − (r·c)/(2 − c)) − hi) is exactly its k = 0 formula 1 − ((r·c)/(c − 2) − r), and ·2⁰ is exact.
// Between ½ln2 and 1.5ln2, trunc(x/ln2 ± ½) is the ±1 exp64 picks there, with the same hi and lo. The two
// remaining special cases cannot change a float32 result: |x| < 2⁻²⁸ (exp64 returns 1 + x; both round to
// 1) and x = 1 (V8 returns e itself). Lanes outside [−104, 88.5] (or NaN) take the scalar exp64.
// test/kernels/exhaustive/exp-f32.ts checks all 2.24e9 float32 inputs in [−104, 88.5] against Math.exp.
import { exp64 } from './fdlibm';

// Mutable globals: V8 loads them from memory in one instruction, where splatted constants would be
// rebuilt inside every loop iteration.
let LN2_HI = f64x2.splat(6.93147180369123816490e-01);
let LN2_LO = f64x2.splat(1.90821492927058770002e-10);
let INV_LN2 = f64x2.splat(1.44269504088896338700e+00);
let P1 = f64x2.splat(1.66666666666666019037e-01);
let P2 = f64x2.splat(-2.77777777770155933842e-03);
let P3 = f64x2.splat(6.61375632143793436117e-05);
let P4 = f64x2.splat(-1.65339022054652515390e-06);
let P5 = f64x2.splat(4.13813679705723846039e-08);
let ONE = f64x2.splat(1.0);
let TWO = f64x2.splat(2.0);
let HALF = f64x2.splat(0.5);
let SIGN = i64x2.splat(0x8000000000000000);
let ABS = i64x2.splat(0x7fffffffffffffff);
let REDUCE_FROM = i64x2.splat(0x3fd62e4300000000); // |x| with a high word above 0x3fd62e42
let EXPONENT_BIAS = f64x2.splat(4503599627371519.0); // 2^52 + 1023: k + this holds k + 1023 in its low bits
let LOWEST = f32x4.splat(-104.0); // below, e^x < 2^-150 rounds to float32 0
let HIGHEST = f32x4.splat(88.5); // above, e^x (near float32's max) is left to the scalar code

/** exp64 of two float64 lanes with |x| < 708. */
// @ts-ignore: decorator
@inline function exp2lanes(x: v128): v128 {
  const reduce = i64x2.ge_s(v128.and(x, ABS), REDUCE_FROM);
  const kf = v128.and(f64x2.trunc(f64x2.add(f64x2.mul(INV_LN2, x), v128.or(HALF, v128.and(x, SIGN)))), reduce);
  const hi = f64x2.sub(x, f64x2.mul(kf, LN2_HI));
  const lo = f64x2.mul(kf, LN2_LO);
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  const c = f64x2.sub(r, f64x2.mul(t, f64x2.add(P1, f64x2.mul(t, f64x2.add(P2, f64x2.mul(t, f64x2.add(P3, f64x2.mul(t,
    f64x2.add(P4, f64x2.mul(t, P5))))))))));
  const y = f64x2.sub(ONE, f64x2.sub(f64x2.sub(lo, f64x2.div(f64x2.mul(r, c), f64x2.sub(TWO, c))), hi));
  const twopk = i64x2.shl(f64x2.add(kf, EXPONENT_BIAS), 52);
  return f64x2.mul(y, twopk);
}

/** fround(Math.exp(x)) for four float32 lanes. */
// @ts-ignore: decorator
@inline export function expf32x4(x: v128): v128 {
  if (!i32x4.all_true(v128.and(f32x4.ge(x, LOWEST), f32x4.le(x, HIGHEST)))) {
    let r = f32x4.splat(<f32>exp64(<f64>f32x4.extract_lane(x, 0)));
    r = f32x4.replace_lane(r, 1, <f32>exp64(<f64>f32x4.extract_lane(x, 1)));
    r = f32x4.replace_lane(r, 2, <f32>exp64(<f64>f32x4.extract_lane(x, 2)));
    return f32x4.replace_lane(r, 3, <f32>exp64(<f64>f32x4.extract_lane(x, 3)));
  }
  const lo = f32x4.demote_f64x2_zero(exp2lanes(f64x2.promote_low_f32x4(x)));
  const hi = f32x4.demote_f64x2_zero(exp2lanes(f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1))));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}
