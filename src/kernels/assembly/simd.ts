// Small SIMD helpers shared by every kernel. Compiled twice: once with relaxed SIMD (ASC_FEATURE_RELAXED_SIMD
// is a compile-time constant, so the dead branch disappears) and once portable.

/** c + a·b: one fused multiply-add in the relaxed build; a rounded product, then a rounded sum, in the portable one. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** madd on two float64 lanes. */
// @ts-ignore: decorator
@inline export function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** (l0 + l1) + (l2 + l3): the fixed order in which lane partial sums are combined. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Lane-wise `x > m ? x : m` (NaN in x is skipped), folded over lanes in order 0..3. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  let m = f32x4.extract_lane(v, 0);
  const a = f32x4.extract_lane(v, 1); if (a > m) m = a;
  const b = f32x4.extract_lane(v, 2); if (b > m) m = b;
  const c = f32x4.extract_lane(v, 3); if (c > m) m = c;
  return m;
}

// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 { return a < b ? a : b; }
// @ts-ignore: decorator
@inline export function imax(a: i32, b: i32): i32 { return a > b ? a : b; }

/** Byte address of element i of an f32 array at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize { return p + ((<usize>i) << 2); }

/** Lanes [i, i + 4) of the f32 array at p; lanes at or past n read as 0 (no memory past n is touched). */
// @ts-ignore: decorator
@inline export function loadLanes(p: usize, i: i32, n: i32): v128 {
  if (i + 4 <= n) return v128.load(at(p, i));
  let v = f32x4.splat(0);
  if (i < n) v = f32x4.replace_lane(v, 0, load<f32>(at(p, i)));
  if (i + 1 < n) v = f32x4.replace_lane(v, 1, load<f32>(at(p, i + 1)));
  if (i + 2 < n) v = f32x4.replace_lane(v, 2, load<f32>(at(p, i + 2)));
  return v;
}

/** Stores the lanes of v that fall in [i, n). */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, i: i32, n: i32, v: v128): void {
  if (i + 4 <= n) { v128.store(at(p, i), v); return; }
  if (i < n) store<f32>(at(p, i), f32x4.extract_lane(v, 0));
  if (i + 1 < n) store<f32>(at(p, i + 1), f32x4.extract_lane(v, 1));
  if (i + 2 < n) store<f32>(at(p, i + 2), f32x4.extract_lane(v, 2));
}

/** All-ones in lanes l < n (n may be negative or exceed 4): a mask for the first n lanes. */
// @ts-ignore: decorator
@inline export function lanesBelow(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}
