// Rounding float32 values to IEEE binary16 values (round to nearest, ties to even; overflow to ±Inf;
// binary16 subnormals with their 2^-24 quantum), kept in float32 storage: every binary16 value is a float32.

const SIGN: i32 = 0x80000000;
const ABS: i32 = 0x7fffffff;
const MIN_NORMAL16: i32 = 0x38800000; // 2^-14 as float32 bits
const OVERFLOW16: i32 = 0x47800000; // 65536: anything that rounds this high is +Inf in binary16
const INF32: i32 = 0x7f800000;
const QNAN32: i32 = 0x7fc00000;

/** One binary16 rounding of four float32 lanes. */
// @ts-ignore: decorator
@inline export function round16x4(x: v128): v128 {
  const abs = v128.and(x, i32x4.splat(ABS));
  const sign = v128.and(x, i32x4.splat(SIGN));
  // Normal range: drop 13 mantissa bits, adding half an ulp minus one, plus the kept lsb (ties to even).
  const lsb = v128.and(i32x4.shr_u(abs, 13), i32x4.splat(1));
  let r = v128.and(i32x4.add(i32x4.add(abs, i32x4.splat(0xfff)), lsb), i32x4.splat(0xffffe000));
  r = v128.bitselect(i32x4.splat(INF32), r, i32x4.ge_u(r, i32x4.splat(OVERFLOW16)));
  // Subnormal range: adding 0.5 rounds |x| < 2^-14 to a multiple of 2^-24 (the ulp of 0.5), ties to even.
  const half = f32x4.splat(0.5);
  const sub = f32x4.sub(f32x4.add(abs, half), half);
  r = v128.bitselect(sub, r, i32x4.lt_u(abs, i32x4.splat(MIN_NORMAL16)));
  r = v128.bitselect(i32x4.splat(INF32), r, i32x4.eq(abs, i32x4.splat(INF32)));
  r = v128.or(r, sign);
  return v128.bitselect(i32x4.splat(QNAN32), r, i32x4.gt_u(abs, i32x4.splat(INF32)));
}

/** The scalar form of st16. */
// @ts-ignore: decorator
@inline export function round16If(x: f32, f16: bool): f32 {
  if (f16) return round16(x);
  return x;
}

/** The scalar form of round16x4. */
// @ts-ignore: decorator
@inline export function round16(x: f32): f32 {
  return f32x4.extract_lane(round16x4(f32x4.splat(x)), 0);
}

/** y[i] = binary16(x[i]) for i < n (y may alias x); returns how many results are ±Inf or NaN. */
export function roundF16(x: usize, y: usize, n: i32): i32 {
  let bad = i32x4.splat(0);
  const inf = i32x4.splat(INF32);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const r = round16x4(v128.load(x + ((<usize>i) << 2)));
    v128.store(y + ((<usize>i) << 2), r);
    bad = i32x4.sub(bad, i32x4.ge_u(v128.and(r, i32x4.splat(ABS)), inf));
  }
  let count = i32x4.extract_lane(bad, 0) + i32x4.extract_lane(bad, 1) + i32x4.extract_lane(bad, 2) + i32x4.extract_lane(bad, 3);
  for (; i < n; i++) {
    const r = round16(load<f32>(x + ((<usize>i) << 2)));
    store<f32>(y + ((<usize>i) << 2), r);
    if ((reinterpret<i32>(r) & ABS) >= INF32) count++;
  }
  return count;
}

/**
 * A kernel's store rounding: binary16 when the backend stores f16, else none. An `if`, not `?:`: AssemblyScript
 * compiles a conditional of two pure operands to a wasm `select`, which computes both.
 */
// @ts-ignore: decorator
@inline export function st16(v: v128, f16: bool): v128 {
  if (f16) return round16x4(v);
  return v;
}
