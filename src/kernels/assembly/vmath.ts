// Fast float32 exp on four lanes for the flash attention variant, whose results need float32 accuracy
// (checked against a float64 reference with tolerances), not the reference trainer's bits (fdlibm-simd.ts).
import { madd } from './simd';

// Mutable globals: V8 loads each in one instruction, where a splatted constant is rebuilt (three
// instructions) on every use inside a loop.
let LOW = f32x4.splat(-87.3);
let HIGH = f32x4.splat(88.3);
let LOG2E = f32x4.splat(1.44269504088896341);
let LN2_HI = f32x4.splat(-0.693359375);
let LN2_LO = f32x4.splat(2.12194440e-4);
let P0 = f32x4.splat(1.9875691500e-4);
let P1 = f32x4.splat(1.3981999507e-3);
let P2 = f32x4.splat(8.3334519073e-3);
let P3 = f32x4.splat(4.1665795894e-2);
let P4 = f32x4.splat(1.6666665459e-1);
let P5 = f32x4.splat(5.0000001201e-1);
let ONE = f32x4.splat(1.0);
let EXPONENT = f32x4.splat(8388735.0); // 2^23 + 127: n + this holds n + 127 in its low mantissa bits

/**
 * e^x: x = n·ln2 + r with ln2 split in two (Cephes expf), a degree-6 polynomial for e^r, 2^n built in the
 * exponent bits. About 1 ulp on [−87.3, 88.3]; 0 below −87.3 (where e^x is under float32's normal range).
 */
// @ts-ignore: decorator
@inline export function expFast(x: v128): v128 {
  const under = f32x4.lt(x, LOW);
  const xc = f32x4.pmax(f32x4.pmin(x, HIGH), LOW); // pmin/pmax: one instruction each (min/max are ~6 in V8)
  const n = f32x4.nearest(f32x4.mul(xc, LOG2E));
  let r = madd(n, LN2_HI, xc);
  r = madd(n, LN2_LO, r);
  let p = madd(P0, r, P1);
  p = madd(p, r, P2);
  p = madd(p, r, P3);
  p = madd(p, r, P4);
  p = madd(p, r, P5);
  const y = madd(f32x4.mul(p, r), r, f32x4.add(r, ONE));
  const twoN = i32x4.shl(f32x4.add(n, EXPONENT), 23);
  return v128.andnot(f32x4.mul(y, twoN), under);
}
