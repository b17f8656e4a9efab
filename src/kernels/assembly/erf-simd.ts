// fdlibm's erf (fdlibm.ts erf64, the trainer's erf) on two float64 lanes, for float32 results: every
// kernel that needs fround(erf(x)) of float32 lanes gets it from erff32x4, bit for bit.
//
// erf64 picks one of five formulas by |x|: x + efx·x below 2⁻²⁸; x + x·(P/Q)(x²) below 0.84375;
// ±(erx + P/Q)(|x| − 1) below 1.25; ±(1 − exp(−z² − 0.5625)·exp((z − |x|)(z + |x|) + R/S)/|x|) below 6, with
// z = |x| cut to its high word and R/S in 1/x² from one of two coefficient sets (split at 1/0.35); ±1 from 6
// on. Here every lane's test is made with the same thresholds (a high-word test is a comparison with the
// threshold's double), each formula the vector needs runs on both lanes with fdlibm's operations in
// fdlibm's order, and the lanes select their own. The 1/0.35 split selects coefficients per lane: the
// shorter set is padded with a zero leading coefficient, which Horner's rule passes through exactly.
// (fdlibm's underflow guard below 2⁻¹⁰²² cannot meet a float32 input other than ±0, where both forms give x.)
// test/kernels/exhaustive/f32-math.ts checks all float32 inputs with |x| < 6 against the trainer's erf.
import { erf64 } from './fdlibm';
import { exp2lanes } from './fdlibm-simd';

/** Coefficients, each as a two-lane pair: offsets in pairs (16 bytes). */
const C: usize = memory.data<f64>([
  // 0: pp0..pp4
  1.28379167095512558561e-1, 1.28379167095512558561e-1, -3.25042107247001499370e-1, -3.25042107247001499370e-1,
  -2.84817495755985104766e-2, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -5.77027029648944159157e-3,
  -2.37630166566501626084e-5, -2.37630166566501626084e-5,
  // 5: qq1..qq5
  3.97917223959155352819e-1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 6.50222499887672944485e-2,
  5.08130628187576562776e-3, 5.08130628187576562776e-3, 1.32494738004321644526e-4, 1.32494738004321644526e-4,
  -3.96022827877536812320e-6, -3.96022827877536812320e-6,
  // 10: pa0..pa6
  -2.36211856075265944077e-3, -2.36211856075265944077e-3, 4.14856118683748331666e-1, 4.14856118683748331666e-1,
  -3.72207876035701323847e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, 3.18346619901161753674e-1,
  -1.10894694282396677476e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, 3.54783043256182359371e-2,
  -2.16637559486879084300e-3, -2.16637559486879084300e-3,
  // 17: qa1..qa6
  1.06420880400844228286e-1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 5.40397917702171048937e-1,
  7.18286544141962662868e-2, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.26171219808761642112e-1,
  1.36370839120290507362e-2, 1.36370839120290507362e-2, 1.19844998467991074170e-2, 1.19844998467991074170e-2,
  // 23: ra0..ra7
  -9.86494403484714822705e-3, -9.86494403484714822705e-3, -6.93858572707181764372e-1, -6.93858572707181764372e-1,
  -1.05586262253232909814e1, -1.05586262253232909814e1, -6.23753324503260060396e1, -6.23753324503260060396e1,
  -1.62396669462573470355e2, -1.62396669462573470355e2, -1.84605092906711035994e2, -1.84605092906711035994e2,
  -8.12874355063065934246e1, -8.12874355063065934246e1, -9.81432934416914548592e0, -9.81432934416914548592e0,
  // 31: sa1..sa8
  1.96512716674392571292e1, 1.96512716674392571292e1, 1.37657754143519042600e2, 1.37657754143519042600e2,
  4.34565877475229228821e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 6.45387271733267880336e2,
  4.29008140027567833386e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 1.08635005541779435134e2,
  6.57024977031928170135e0, 6.57024977031928170135e0, -6.04244152148580987438e-2, -6.04244152148580987438e-2,
  // 39: rb0..rb6, 0
  -9.86494292470009928597e-3, -9.86494292470009928597e-3, -7.99283237680523006574e-1, -7.99283237680523006574e-1,
  -1.77579549177547519889e1, -1.77579549177547519889e1, -1.60636384855821916062e2, -1.60636384855821916062e2,
  -6.37566443368389627722e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -1.02509513161107724954e3,
  -4.83519191608651397019e2, -4.83519191608651397019e2, 0, 0,
  // 47: sb1..sb7, 0
  3.03380607434824582924e1, 3.03380607434824582924e1, 3.25792512996573918826e2, 3.25792512996573918826e2,
  1.53672958608443695994e3, 1.53672958608443695994e3, 3.19985821950859553908e3, 3.19985821950859553908e3,
  2.55305040643316442583e3, 2.55305040643316442583e3, 4.74528541206955367215e2, 4.74528541206955367215e2,
  -2.24409524465858183362e1, -2.24409524465858183362e1, 0, 0,
], 16);
const PP = 0, QQ = 5, PA = 10, QA = 17, RA = 23, SA = 31, RB = 39, SB = 47;

let ONE = f64x2.splat(1.0);
let ERX = f64x2.splat(8.45062911510467529297e-1);
let EFX = f64x2.splat(1.28379167095512586316e-1);
let OFFSET = f64x2.splat(0.5625);
let TINY = f64x2.splat(3.7252902984619140625e-9); // 2⁻²⁸: high word 0x3e300000
let SMALL = f64x2.splat(0.84375); // 0x3feb0000
let MID = f64x2.splat(1.25); // 0x3ff40000
let SPLIT = f64x2.splat(2.857142448425293); // 0x4006db6e: below, the first R/S set
let LARGE = f64x2.splat(6.0); // 0x40180000
let ABS = i64x2.splat(0x7fffffffffffffff);
let SIGN = i64x2.splat(0x8000000000000000);
let HIGH_WORD = i64x2.splat(0xffffffff00000000);
let EXP_TINY = f64x2.splat(3.7252902984619140625e-9);

/** Coefficient pair i. */
// @ts-ignore: decorator
@inline function k(i: i32): v128 { return v128.load(C + <usize>(i << 4)); }

/** Coefficient pair i of set a in the `first` lanes, of set b in the others. */
// @ts-ignore: decorator
@inline function ks(a: i32, b: i32, i: i32, first: v128): v128 { return v128.bitselect(k(a + i), k(b + i), first); }

/** c + s·acc: one Horner step, in fdlibm's order (a rounded product, then a rounded sum). */
// @ts-ignore: decorator
@inline function step(c: v128, s: v128, acc: v128): v128 { return f64x2.add(c, f64x2.mul(s, acc)); }

/** Horner over 5, 6 or 7 coefficients from pair `at` (written out: a loop here costs more than the arithmetic). */
// @ts-ignore: decorator
@inline function horner5(at: i32, s: v128): v128 {
  return step(k(at), s, step(k(at + 1), s, step(k(at + 2), s, step(k(at + 3), s, k(at + 4)))));
}
// @ts-ignore: decorator
@inline function horner6(at: i32, s: v128): v128 { return step(k(at), s, horner5(at + 1, s)); }
// @ts-ignore: decorator
@inline function horner7(at: i32, s: v128): v128 { return step(k(at), s, horner6(at + 1, s)); }

/** Horner over 8 coefficients, set a in the `first` lanes and set b in the others. */
// @ts-ignore: decorator
@inline function horner8Select(a: i32, b: i32, first: v128, s: v128): v128 {
  let acc = step(ks(a, b, 6, first), s, ks(a, b, 7, first));
  acc = step(ks(a, b, 5, first), s, acc);
  acc = step(ks(a, b, 4, first), s, acc);
  acc = step(ks(a, b, 3, first), s, acc);
  acc = step(ks(a, b, 2, first), s, acc);
  acc = step(ks(a, b, 1, first), s, acc);
  return step(ks(a, b, 0, first), s, acc);
}

/** exp64 on two lanes: exp2lanes plus exp64's own answer below 2⁻²⁸ (1 + x). */
// @ts-ignore: decorator
@inline function exp64x2(x: v128): v128 {
  return v128.bitselect(f64x2.add(ONE, x), exp2lanes(x), f64x2.lt(v128.and(x, ABS), EXP_TINY));
}

/** The formula for 1.25 ≤ |x| < 6 on two lanes (ax = |x|). */
// @ts-ignore: decorator
@inline function erfLarge(ax: v128, negative: v128): v128 {
  const s = f64x2.div(ONE, f64x2.mul(ax, ax));
  const first = f64x2.lt(ax, SPLIT);
  const R = horner8Select(RA, RB, first, s);
  const S = f64x2.add(ONE, f64x2.mul(s, horner8Select(SA, SB, first, s)));
  const z = v128.and(ax, HIGH_WORD);
  const r = f64x2.mul(exp64x2(f64x2.sub(f64x2.mul(f64x2.neg(z), z), OFFSET)),
    exp64x2(f64x2.add(f64x2.mul(f64x2.sub(z, ax), f64x2.add(z, ax)), f64x2.div(R, S))));
  const q = f64x2.div(r, ax);
  return v128.bitselect(f64x2.sub(q, ONE), f64x2.sub(ONE, q), negative);
}

/** The formula for 0.84375 ≤ |x| < 1.25. */
// @ts-ignore: decorator
@inline function erfMid(ax: v128, negative: v128): v128 {
  const s = f64x2.sub(ax, ONE);
  const PQ = f64x2.div(horner7(PA, s), f64x2.add(ONE, f64x2.mul(s, horner6(QA, s))));
  return v128.bitselect(f64x2.sub(f64x2.neg(ERX), PQ), f64x2.add(ERX, PQ), negative);
}

/** The formula for |x| < 0.84375 (and, below 2⁻²⁸, x + efx·x). */
// @ts-ignore: decorator
@inline function erfSmall(x: v128, tiny: v128): v128 {
  const z = f64x2.mul(x, x);
  const r = horner5(PP, z);
  const s = f64x2.add(ONE, f64x2.mul(z, horner5(QQ, z)));
  return v128.bitselect(f64x2.add(x, f64x2.mul(EFX, x)), f64x2.add(x, f64x2.mul(x, f64x2.div(r, s))), tiny);
}

/**
 * erf64 of four float32 lanes held as two float64 pairs (a, b), rounded to float32 lanes. Each formula
 * runs when any lane needs it, on both pairs side by side (two independent chains for the processor to
 * overlap), and every lane selects its own; ±1 from 6 on (and for ±Inf); NaN stays NaN. The formula for
 * 1.25 ≤ |x| < 6 costs as much as the others together, so unless all four lanes need it, the lanes that
 * do call the scalar erf64 (the same operations).
 */
function erf4(a: v128, b: v128): v128 {
  const aa = v128.and(a, ABS), ab = v128.and(b, ABS);
  const na = v128.and(a, SIGN), nb = v128.and(b, SIGN);
  const smallA = f64x2.lt(aa, SMALL), smallB = f64x2.lt(ab, SMALL), midA = f64x2.lt(aa, MID), midB = f64x2.lt(ab, MID);
  const largeA = f64x2.lt(aa, LARGE), largeB = f64x2.lt(ab, LARGE);
  let ya = v128.or(ONE, na), yb = v128.or(ONE, nb);
  const bigA = i64x2.bitmask(v128.andnot(largeA, midA)), bigB = i64x2.bitmask(v128.andnot(largeB, midB));
  if ((bigA & bigB) == 3) {
    ya = erfLarge(aa, na);
    yb = erfLarge(ab, nb);
  } else if ((bigA | bigB) != 0) {
    // The costly formula (two exps, three divisions) for one to three lanes: the scalar port, lane by lane.
    if (bigA & 1) ya = f64x2.replace_lane(ya, 0, erf64(f64x2.extract_lane(a, 0)));
    if (bigA & 2) ya = f64x2.replace_lane(ya, 1, erf64(f64x2.extract_lane(a, 1)));
    if (bigB & 1) yb = f64x2.replace_lane(yb, 0, erf64(f64x2.extract_lane(b, 0)));
    if (bigB & 2) yb = f64x2.replace_lane(yb, 1, erf64(f64x2.extract_lane(b, 1)));
  }
  if (v128.any_true(v128.or(v128.andnot(midA, smallA), v128.andnot(midB, smallB)))) {
    ya = v128.bitselect(erfMid(aa, na), ya, midA);
    yb = v128.bitselect(erfMid(ab, nb), yb, midB);
  }
  if (v128.any_true(v128.or(smallA, smallB))) {
    ya = v128.bitselect(erfSmall(a, f64x2.lt(aa, TINY)), ya, smallA);
    yb = v128.bitselect(erfSmall(b, f64x2.lt(ab, TINY)), yb, smallB);
  }
  ya = v128.bitselect(a, ya, f64x2.ne(a, a));
  yb = v128.bitselect(b, yb, f64x2.ne(b, b));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(ya), f32x4.demote_f64x2_zero(yb), 0, 1, 4, 5);
}

/** fround(erf64(x)) for four float32 lanes. */
// @ts-ignore: decorator
@inline export function erff32x4(x: v128): v128 {
  return erf4(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)));
}
