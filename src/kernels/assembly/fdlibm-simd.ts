// fdlibm's exp (fdlibm.ts exp64) on two float64 lanes, for float32 results: every kernel that needs
// fround(Math.exp(x)) of float32 lanes gets it from expf32x4, bit for bit.
//
// Per lane the operations are exp64's. Its branches become arithmetic: with k forced to 0 where exp64 does
// not reduce (|x| ≤ ½ln2 by its high-word test), hi = x, lo = 0 and its k ≠ 0 formula
// 1 − ((lo − (r·c)/(2 − c)) − hi) is exactly its k = 0 formula 1 − ((r·c)/(c − 2) − r), and ·2⁰ is exact.
// Between ½ln2 and 1.5ln2, trunc(x/ln2 ± ½) is the ±1 exp64 picks there, with the same hi and lo. The two
// remaining special cases cannot change a float32 result: |x| < 2⁻²⁸ (exp64 returns 1 + x; both round to
// 1) and x = 1 (V8 returns e itself). Lanes outside [−104, 88.5] (or NaN) take the scalar exp64.
// test/kernels/exhaustive/f32-math.ts checks all 2.24e9 float32 inputs in [−104, 88.5] against Math.exp.
import { exp64 } from './fdlibm';
import { madd64 } from './simd';

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

/** exp64 of two float64 lanes with 2⁻²⁸ ≤ |x| < 708 and x ≠ 1 (where the two special cases cannot apply). */
// @ts-ignore: decorator
@inline export function exp2lanes(x: v128): v128 {
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

/** fround(Math.exp(x)) for four float32 lanes, by fdlibm's own operations (the fallback of expf32x4). */
// @ts-ignore: decorator
@inline function expf32x4Fdlibm(x: v128): v128 {
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

// The fast path of expf32x4 (Ziv's rounding test). fdlibm's exp is a long chain of dependent float64 ops
// (Horner, then a division), so on two-lane SIMD it is bound by latency. A second float64 evaluation with
// a short chain, y = 2^k·p(r), k = round(x/ln2), r = x − k·ln2 (exact for float32 x), p a degree-11 Chebyshev
// fit of e^r on |r| ≤ ½ln2 (error 1.5e-17) evaluated by Estrin's scheme, is within 2^-50.5 of e^x; fdlibm's
// result is within 2^-52 (under 1 ulp). Rounded to float32 they differ only if a float32 rounding boundary
// (a midpoint: the 29 bits float32 drops = 2^28) lies between them, so wherever the dropped bits of y are
// more than 32 ulps from 2^28 the fast result is fdlibm's float32 result. Elsewhere (about one lane in 8
// million), and outside [−87.33, 88.5] where float32 results are subnormal or overflow, the whole vector
// takes fdlibm's path. test/kernels/exhaustive/f32-math.ts checks every float32 input in both builds.
let C2 = f64x2.splat(0.5000000000000019);
let C3 = f64x2.splat(0.1666666666666668);
let C4 = f64x2.splat(0.04166666666648738);
let C5 = f64x2.splat(0.008333333333319546);
let C6 = f64x2.splat(0.0013888888952505406);
let C7 = f64x2.splat(0.00019841269890193705);
let C8 = f64x2.splat(2.4801485278370062e-05);
let C9 = f64x2.splat(2.7557240761739257e-06);
let C10 = f64x2.splat(2.7632715071632255e-07);
let C11 = f64x2.splat(2.5110095611886237e-08);
let FAST_LOWEST = f32x4.splat(-87.33); // e^x ≥ 2^-126 from here: float32 results are normal
let DROPPED = i32x4.splat(0x1fffffff); // the low 29 bits of a float64's mantissa (in its low word)
let NEAR = i32x4.splat(32 - 0x10000000);
let WINDOW = i32x4.splat(64);
let LOW_WORDS = i64x2.splat(0xffffffff);

/** 2^k·p(x − k·ln2) on two float64 lanes (x float32 values in [−87.33, 88.5]). */
// @ts-ignore: decorator
@inline function expFast2(x: v128): v128 {
  const kf = f64x2.nearest(f64x2.mul(x, INV_LN2));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(kf, LN2_HI)), f64x2.mul(kf, LN2_LO));
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const u0 = madd64(madd64(r, C3, C2), r2, f64x2.add(ONE, r));
  const u1 = madd64(madd64(r, C7, C6), r2, madd64(r, C5, C4));
  const u2 = madd64(madd64(r, C11, C10), r2, madd64(r, C9, C8));
  const p = madd64(u2, f64x2.mul(r4, r4), madd64(u1, r4, u0));
  return f64x2.mul(p, i64x2.shl(f64x2.add(kf, EXPONENT_BIAS), 52));
}

/** Low-word lanes of two float64 lanes whose 29 dropped bits are within 32 ulps of a float32 midpoint. */
// @ts-ignore: decorator
@inline function nearMidpoint(y: v128): v128 {
  return i32x4.le_u(i32x4.add(v128.and(y, DROPPED), NEAR), WINDOW);
}

/** fround(Math.exp(x)) for four float32 lanes: fdlibm's bits. */
// @ts-ignore: decorator
@inline export function expf32x4(x: v128): v128 {
  if (!i32x4.all_true(v128.and(f32x4.ge(x, FAST_LOWEST), f32x4.le(x, HIGHEST)))) return expf32x4Fdlibm(x);
  const a = expFast2(f64x2.promote_low_f32x4(x));
  const b = expFast2(f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)));
  if (v128.any_true(v128.and(v128.or(nearMidpoint(a), nearMidpoint(b)), LOW_WORDS))) return expf32x4Fdlibm(x);
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

// tanh for float32 results: fdlibm's tanh64 (via expm1_64) per float64 lane. tanh64 calls expm1(2|x|)
// for |x| ≥ 1 and expm1(−2|x|) below; on those arguments expm1 takes one of five paths, all computed and
// selected per lane: k = 0 (|u| ≤ ½ln2), k = −1, k ≤ −2, 3 ≤ k < 20 and 20 ≤ k ≤ 56. |x| < 2⁻²⁸ gives x;
// |x| ≥ 10 gives ±1 (fdlibm's value rounds to ±1 in float32 from |x| > 9.02 on).
let Q1 = f64x2.splat(-3.33333333333331316428e-02);
let Q2 = f64x2.splat(1.58730158725481460165e-03);
let Q3 = f64x2.splat(-7.93650757867487942473e-05);
let Q4 = f64x2.splat(4.00821782732936239552e-06);
let Q5 = f64x2.splat(-2.01099218183624371326e-07);
let THREE = f64x2.splat(3.0);
let SIX = f64x2.splat(6.0);
let K_MINUS_ONE = f64x2.splat(-1.0);
let K_TWENTY = f64x2.splat(20.0);
let TANH_ONE = f32x4.splat(10.0);
let TANH_TINY = f32x4.splat(3.7252902984619140625e-9); // 2^-28

/** expm1_64 of two lanes, for u in (−2, 0) ∪ [2, 20]. */
// @ts-ignore: decorator
@inline function expm1TwoLanes(u: v128): v128 {
  const reduce = i64x2.ge_s(v128.and(u, ABS), REDUCE_FROM);
  const kf = v128.and(f64x2.trunc(f64x2.add(f64x2.mul(INV_LN2, u), v128.or(HALF, v128.and(u, SIGN)))), reduce);
  const hi = f64x2.sub(u, f64x2.mul(kf, LN2_HI));
  const lo = f64x2.mul(kf, LN2_LO);
  const x = f64x2.sub(hi, lo);
  const c = f64x2.sub(f64x2.sub(hi, x), lo);
  const hfx = f64x2.mul(HALF, x);
  const hxs = f64x2.mul(x, hfx);
  const r1 = f64x2.add(ONE, f64x2.mul(hxs, f64x2.add(Q1, f64x2.mul(hxs, f64x2.add(Q2, f64x2.mul(hxs, f64x2.add(Q3,
    f64x2.mul(hxs, f64x2.add(Q4, f64x2.mul(hxs, Q5))))))))));
  const t = f64x2.sub(THREE, f64x2.mul(r1, hfx));
  const e = f64x2.mul(hxs, f64x2.div(f64x2.sub(r1, t), f64x2.sub(SIX, f64x2.mul(x, t))));
  const yk0 = f64x2.sub(x, f64x2.sub(f64x2.mul(x, e), hxs));
  const e2 = f64x2.sub(f64x2.sub(f64x2.mul(x, f64x2.sub(e, c)), c), hxs);
  const twopk = i64x2.shl(f64x2.add(kf, EXPONENT_BIAS), 52);
  const ykm1 = f64x2.sub(f64x2.mul(HALF, f64x2.sub(x, e2)), HALF);
  const yneg = f64x2.sub(f64x2.mul(f64x2.sub(ONE, f64x2.sub(e2, x)), twopk), ONE);
  // 1 − 2^-k and 2^-k, exact: exponent bits from −k (two's complement in the k + 1023 field).
  const twomk = i64x2.shl(f64x2.sub(EXPONENT_BIAS, kf), 52);
  const ysmall = f64x2.mul(f64x2.sub(f64x2.sub(ONE, twomk), f64x2.sub(e2, x)), twopk);
  const ymid = f64x2.mul(f64x2.add(f64x2.sub(x, f64x2.add(e2, twomk)), ONE), twopk);
  let y = v128.bitselect(ysmall, ymid, f64x2.lt(kf, K_TWENTY));
  y = v128.bitselect(yneg, y, f64x2.lt(kf, K_MINUS_ONE));
  y = v128.bitselect(ykm1, y, f64x2.eq(kf, K_MINUS_ONE));
  return v128.bitselect(y, yk0, reduce);
}

/** tanh64 of two lanes with 2⁻²⁸ ≤ |x| < 10. */
// @ts-ignore: decorator
@inline function tanhTwoLanes(x: v128): v128 {
  const ax = v128.and(x, ABS);
  const big = f64x2.ge(ax, ONE);
  const two = f64x2.add(ax, ax);
  const t = expm1TwoLanes(v128.bitselect(two, f64x2.neg(two), big));
  const d = f64x2.add(t, TWO);
  const z = v128.bitselect(f64x2.sub(ONE, f64x2.div(TWO, d)), f64x2.div(f64x2.neg(t), d), big);
  return v128.or(z, v128.and(x, SIGN));
}

/** fround(Math.tanh(x)) for four float32 lanes. */
// @ts-ignore: decorator
@inline export function tanhf32x4(x: v128): v128 {
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  const lo = f32x4.demote_f64x2_zero(tanhTwoLanes(f64x2.promote_low_f32x4(x)));
  const hi = f32x4.demote_f64x2_zero(tanhTwoLanes(f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1))));
  let r = v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
  r = v128.bitselect(v128.or(f32x4.splat(1.0), v128.and(x, i32x4.splat(0x80000000))), r, f32x4.ge(ax, TANH_ONE));
  r = v128.bitselect(x, r, f32x4.lt(ax, TANH_TINY));
  return v128.bitselect(x, r, f32x4.ne(x, x)); // NaN stays NaN
}
