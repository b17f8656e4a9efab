// Building blocks of the causal attention kernels (attention.ts, flash-attention.ts).
//
// The kernels work on score *panels*: the transposed scores Sᵀ of one strip of 8 queries, one row per key
// j and one lane per query i (8 floats, the packed-B layout of the 6×8 GEMM micro-kernel). A panel is
// produced by the micro-kernel (K as the packed A operand, the query strip as B) and consumed by it
// again as the B operand of Oᵀ = Vᵀ·Pᵀ and dQᵀ = Kᵀ·dSᵀ. The softmax of a query is then a column of
// the panel: its max and sum run down the rows, lane by lane, so every query's sum is the plain
// ascending sum of the reference order, without any horizontal reduction.
import { MR, NR, microKernel } from './gemm-microkernel';
import { packB } from './gemm-pack';
import { expf32x4 } from './fdlibm-simd';
import { expFast } from './vmath';
import { st16 } from './fp16';
import { at, madd } from './simd';

/** Queries per strip: one panel lane each. */
export const QS: i32 = NR;
/** Bytes of one panel row. */
export const ROW: usize = <usize>(NR * 4);

/** Floats before panel q of a head's saved probabilities: panel r holds 8r + 12 rows of 8 floats. */
// @ts-ignore: decorator
@inline export function panelOffset(q: i32): i32 { return 32 * q * (q + 2); }

/**
 * Floats of `saved` per head: the materialized panels, or m and S of every strip for flash. In float64, so
 * the loader sees a head too long for the 4 GiB memory as such rather than a wrapped 32-bit count.
 */
export function savedFloatsPerHead(T: i32, flash: bool): f64 {
  const strips = <f64>((T + QS - 1) / QS);
  return flash ? 16 * strips : 32 * strips * (strips + 2);
}

/** The next 64-byte aligned address after `floats` floats at p. */
// @ts-ignore: decorator
@inline export function after(p: usize, floats: i32): usize { return (p + ((<usize>floats) << 2) + 63) & ~(<usize>63); }

// @ts-ignore: decorator
@inline export function roundUp(x: i32, m: i32): i32 { return (x + m - 1) / m * m; }

/** Address of head (b, h) of a strided tensor (strides in elements). */
// @ts-ignore: decorator
@inline export function head(base: usize, b: i32, h: i32, sB: i32, sH: i32): usize {
  return base + ((<usize>b * <usize>sB + <usize>h * <usize>sH) << 2);
}

/**
 * Tasks per head: enough for 8 tasks in all, so two or more threads have work when there are few heads,
 * never more than the strips to share. A choice by shape only: no result depends on it.
 */
export function partsPerHead(heads: i32, strips: i32): i32 {
  return max(1, min(strips, (8 + heads - 1) / heads));
}

const LANES_LO: v128 = i32x4(0, 1, 2, 3);
const LANES_HI: v128 = i32x4(4, 5, 6, 7);

/**
 * Lane ids for the visibility test: lane l (query i0 + l) of the strip, or i32.MIN_VALUE when the query
 * does not exist (l ≥ iv). Key j is visible to lane l iff j − i0 ≤ id: `i32x4.ge_s(ids, splat(j − i0))`.
 */
// @ts-ignore: decorator
@inline function laneIds(iv: i32, hi: bool): v128 {
  const lanes = hi ? LANES_HI : LANES_LO;
  return v128.bitselect(lanes, i32x4.splat(i32.MIN_VALUE), i32x4.lt_s(lanes, i32x4.splat(iv)));
}

const ONE_ROW: v128 = i32x4(1, 1, 1, 1);

/**
 * Storage as a type parameter, so each storage gets its own compiled loops: with a flag tested inside them,
 * V8 builds the binary16 rounding's constants above the test on every iteration.
 */
type Half = u16;
type Single = f32;
// @ts-ignore: decorator
@inline function isHalf<S>(): bool { return isInteger<S>(); }
/** Likewise the exp: the flash variant's float32 polynomial or fdlibm's bits. */
type FastExp = f32;
type ExactExp = f64;
// @ts-ignore: decorator
@inline function isFast<E>(): bool { return sizeof<E>() == 4; }

/** fdlibm's exp (the reference's bits) or, for the flash variant, the float32 polynomial of vmath.ts. */
// @ts-ignore: decorator
@inline function exp4(x: v128, fast: bool): v128 {
  if (fast) return expFast(x);
  return expf32x4(x);
}

/**
 * The softmax of a freshly computed panel of `rows` keys (key j0 + r in row r) for queries i0 + l, l < iv,
 * in place: s = st(acc·scale); m = max over visible keys (`s > m`, ascending, from −∞);
 * e = exp(s − m); S = Σ e over visible keys, ascending; P = st(e / S), and +0 where a key is not visible.
 * Writes m (8 floats) and S (8 floats) to `stats`. `fast` takes the flash variant's exp.
 */
export function softmaxPanel(panel: usize, rows: i32, j0: i32, i0: i32, iv: i32, scale: f32, f16: bool, stats: usize, fast: bool): void {
  if (fast) {
    if (f16) softmaxPanelWith<Half, FastExp>(panel, rows, j0, i0, iv, scale, stats);
    else softmaxPanelWith<Single, FastExp>(panel, rows, j0, i0, iv, scale, stats);
  } else if (f16) softmaxPanelWith<Half, ExactExp>(panel, rows, j0, i0, iv, scale, stats);
  else softmaxPanelWith<Single, ExactExp>(panel, rows, j0, i0, iv, scale, stats);
}

function softmaxPanelWith<S, E>(panel: usize, rows: i32, j0: i32, i0: i32, iv: i32, scale: f32, stats: usize): void {
  const f16 = isHalf<S>(), fast = isFast<E>();
  const vs = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const id0 = laneIds(iv, false), id1 = laneIds(iv, true), dj0 = i32x4.splat(j0 - i0);
  let m0 = ninf, m1 = ninf, dj = dj0;
  for (let r = 0; r < rows; r++) {
    const p = panel + <usize>r * ROW;
    const s0 = st16(f32x4.mul(v128.load(p), vs), f16), s1 = st16(f32x4.mul(v128.load(p, 16), vs), f16);
    v128.store(p, s0);
    v128.store(p, s1, 16);
    m0 = f32x4.pmax(m0, v128.bitselect(s0, ninf, i32x4.ge_s(id0, dj)));
    m1 = f32x4.pmax(m1, v128.bitselect(s1, ninf, i32x4.ge_s(id1, dj)));
    dj = i32x4.add(dj, ONE_ROW);
  }
  let a0 = f32x4.splat(0), a1 = a0;
  dj = dj0;
  for (let r = 0; r < rows; r++) {
    const p = panel + <usize>r * ROW;
    const k0 = i32x4.ge_s(id0, dj), k1 = i32x4.ge_s(id1, dj);
    // Hidden lanes take exp(0): always in the fast range, and then dropped.
    const e0 = exp4(v128.and(f32x4.sub(v128.load(p), m0), k0), fast);
    const e1 = exp4(v128.and(f32x4.sub(v128.load(p, 16), m1), k1), fast);
    a0 = f32x4.add(a0, v128.and(e0, k0));
    a1 = f32x4.add(a1, v128.and(e1, k1));
    v128.store(p, e0);
    v128.store(p, e1, 16);
    dj = i32x4.add(dj, ONE_ROW);
  }
  dj = dj0;
  for (let r = 0; r < rows; r++) {
    const p = panel + <usize>r * ROW;
    v128.store(p, v128.and(st16(f32x4.div(v128.load(p), a0), f16), i32x4.ge_s(id0, dj)));
    v128.store(p, v128.and(st16(f32x4.div(v128.load(p, 16), a1), f16), i32x4.ge_s(id1, dj)), 16);
    dj = i32x4.add(dj, ONE_ROW);
  }
  v128.store(stats, m0); v128.store(stats, m1, 16);
  v128.store(stats, a0, 32); v128.store(stats, a1, 48);
}

/**
 * P again, bit for bit as softmaxPanel (fast) wrote it, from a panel of accumulated scores and the forward's
 * m and S (`stats`, as softmaxPanel stores them).
 */
export function recomputePanel(panel: usize, rows: i32, j0: i32, i0: i32, iv: i32, scale: f32, f16: bool, stats: usize): void {
  if (f16) recomputePanelWith<Half>(panel, rows, j0, i0, iv, scale, stats);
  else recomputePanelWith<Single>(panel, rows, j0, i0, iv, scale, stats);
}

function recomputePanelWith<S>(panel: usize, rows: i32, j0: i32, i0: i32, iv: i32, scale: f32, stats: usize): void {
  const f16 = isHalf<S>();
  const vs = f32x4.splat(scale);
  const m0 = v128.load(stats), m1 = v128.load(stats, 16), S0 = v128.load(stats, 32), S1 = v128.load(stats, 48);
  const id0 = laneIds(iv, false), id1 = laneIds(iv, true);
  let dj = i32x4.splat(j0 - i0);
  for (let r = 0; r < rows; r++) {
    const p = panel + <usize>r * ROW;
    const k0 = i32x4.ge_s(id0, dj), k1 = i32x4.ge_s(id1, dj);
    const s0 = st16(f32x4.mul(v128.load(p), vs), f16), s1 = st16(f32x4.mul(v128.load(p, 16), vs), f16);
    const e0 = expFast(v128.and(f32x4.sub(s0, m0), k0)), e1 = expFast(v128.and(f32x4.sub(s1, m1), k1));
    v128.store(p, v128.and(st16(f32x4.div(e0, S0), f16), k0));
    v128.store(p, v128.and(st16(f32x4.div(e1, S1), f16), k1), 16);
    dj = i32x4.add(dj, ONE_ROW);
  }
}

/** D = Σ_j P·st(dP) over visible keys, ascending j, per query lane (8 floats to `dst`). dP is stored rounded. */
export function rowDots(P: usize, dP: usize, rows: i32, j0: i32, i0: i32, iv: i32, f16: bool, dst: usize): void {
  if (f16) rowDotsWith<Half>(P, dP, rows, j0, i0, iv, dst);
  else rowDotsWith<Single>(P, dP, rows, j0, i0, iv, dst);
}

function rowDotsWith<S>(P: usize, dP: usize, rows: i32, j0: i32, i0: i32, iv: i32, dst: usize): void {
  const f16 = isHalf<S>();
  const id0 = laneIds(iv, false), id1 = laneIds(iv, true);
  let dj = i32x4.splat(j0 - i0);
  let a0 = f32x4.splat(0), a1 = a0;
  for (let r = 0; r < rows; r++) {
    const p = P + <usize>r * ROW, d = dP + <usize>r * ROW;
    const g0 = st16(v128.load(d), f16), g1 = st16(v128.load(d, 16), f16);
    v128.store(d, g0);
    v128.store(d, g1, 16);
    a0 = v128.bitselect(madd(v128.load(p), g0, a0), a0, i32x4.ge_s(id0, dj));
    a1 = v128.bitselect(madd(v128.load(p, 16), g1, a1), a1, i32x4.ge_s(id1, dj));
    dj = i32x4.add(dj, ONE_ROW);
  }
  v128.store(dst, a0);
  v128.store(dst, a1, 16);
}

/** dS = st(P·(st(dP) − D)) over visible keys, +0 elsewhere, into `out` (which may be P or dP). */
export function dsPanel(P: usize, dP: usize, out: usize, rows: i32, j0: i32, i0: i32, iv: i32, D: usize, f16: bool): void {
  if (f16) dsPanelWith<Half>(P, dP, out, rows, j0, i0, iv, D);
  else dsPanelWith<Single>(P, dP, out, rows, j0, i0, iv, D);
}

function dsPanelWith<S>(P: usize, dP: usize, out: usize, rows: i32, j0: i32, i0: i32, iv: i32, D: usize): void {
  const f16 = isHalf<S>();
  const D0 = v128.load(D), D1 = v128.load(D, 16);
  const id0 = laneIds(iv, false), id1 = laneIds(iv, true);
  let dj = i32x4.splat(j0 - i0);
  for (let r = 0; r < rows; r++) {
    const p = P + <usize>r * ROW, d = dP + <usize>r * ROW, o = out + <usize>r * ROW;
    const g0 = f32x4.sub(st16(v128.load(d), f16), D0), g1 = f32x4.sub(st16(v128.load(d, 16), f16), D1);
    v128.store(o, v128.and(st16(f32x4.mul(v128.load(p), g0), f16), i32x4.ge_s(id0, dj)));
    v128.store(o, v128.and(st16(f32x4.mul(v128.load(p, 16), g1), f16), i32x4.ge_s(id1, dj)), 16);
    dj = i32x4.add(dj, ONE_ROW);
  }
}

/**
 * Panel products over queries: tile[r][c] (+)= Σ_i A[r][i]·B[i][c] for 6 keys r and 8 columns c, where
 * A[r][i] is lane i%8 of row r of panel ⌊i/8⌋ (the first at `pa`, each next one `step` bytes further,
 * `step` growing by `stepInc` per panel) and B is a packed-B strip with p = i. Products are added one at
 * a time in ascending i, as in microKernel.
 */
export function panelKernel(pa: usize, step: usize, stepInc: usize, panels: i32, pb: usize, tile: usize, ldt: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  // One flat loop over i (as microKernel's): lane i%8 advances by 4 bytes, and after the 8th lane `pa`
  // jumps to the next panel's row (a nested loop here made V8 spill accumulators).
  const end = pb + <usize>panels * (ROW * QS);
  let next = pb + ROW * QS;
  step -= ROW;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 32);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 64);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 96);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 128);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    x = v128.load32_splat(pa, 160);
    c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    pb += ROW;
    pa += 4;
    if (pb == next) {
      pa += step;
      step += stepInc;
      next += ROW * QS;
    }
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile + ldt, c10); v128.store(tile + ldt, c11, 16);
  v128.store(tile + 2 * ldt, c20); v128.store(tile + 2 * ldt, c21, 16);
  v128.store(tile + 3 * ldt, c30); v128.store(tile + 3 * ldt, c31, 16);
  v128.store(tile + 4 * ldt, c40); v128.store(tile + 4 * ldt, c41, 16);
  v128.store(tile + 5 * ldt, c50); v128.store(tile + 5 * ldt, c51, 16);
}

/** Oᵀ-style products: tile (roundUp(D, 6) rows × 8 lanes) = Aᵀ·panel over k keys, A packed with p = key. */
export function panelProduct(k: i32, packedT: usize, kc: i32, D: i32, panel: usize, tile: usize, first: bool): void {
  for (let d = 0; d < D; d += MR) microKernel(k, packedT + <usize>(d * kc * 4), panel, tile + <usize>d * ROW, ROW, first);
}

// @ts-ignore: decorator
@inline function epilogue(v: v128, scale: v128, useScale: bool, f16: bool): v128 {
  const s = st16(v, f16);
  if (useScale) return st16(f32x4.mul(s, scale), f16);
  return s;
}

/**
 * Row i0 + l, column d of a row-major output (row stride ld elements) = epilogue(tile[d][l]) for l < iv,
 * d < D: tile rows are columns of the output (a transposed store). The epilogue is the storage rounding,
 * then, with useScale, ·scale and the rounding again (a separate scaling op of the reference).
 */
export function storeTransposed(tile: usize, D: i32, iv: i32, dst: usize, ld: i32, scale: f32, useScale: bool, f16: bool): void {
  const vs = f32x4.splat(scale);
  const ldb = (<usize>ld) << 2;
  let d = 0;
  if (iv == QS) {
    for (; d + 4 <= D; d += 4) {
      for (let l = 0; l < QS; l += 4) {
        const t = tile + <usize>d * ROW + ((<usize>l) << 2);
        const r0 = v128.load(t), r1 = v128.load(t + ROW), r2 = v128.load(t + 2 * ROW), r3 = v128.load(t + 3 * ROW);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const o = dst + <usize>l * ldb + ((<usize>d) << 2);
        v128.store(o, epilogue(v128.shuffle<i64>(t0, t1, 0, 2), vs, useScale, f16));
        v128.store(o + ldb, epilogue(v128.shuffle<i64>(t0, t1, 1, 3), vs, useScale, f16));
        v128.store(o + 2 * ldb, epilogue(v128.shuffle<i64>(t2, t3, 0, 2), vs, useScale, f16));
        v128.store(o + 3 * ldb, epilogue(v128.shuffle<i64>(t2, t3, 1, 3), vs, useScale, f16));
      }
    }
  }
  for (; d < D; d++) {
    for (let l = 0; l < iv; l++) {
      const v = epilogue(f32x4.splat(load<f32>(tile + <usize>d * ROW + ((<usize>l) << 2))), vs, useScale, f16);
      store<f32>(dst + <usize>l * ldb + ((<usize>d) << 2), f32x4.extract_lane(v, 0));
    }
  }
}

/** Rows [0, rows) × columns [0, D) of a tile (row stride ldt bytes) to a row-major output, through the epilogue. */
export function storeRows(tile: usize, ldt: usize, rows: i32, D: i32, dst: usize, ld: i32, scale: f32, useScale: bool, f16: bool): void {
  const vs = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const t = tile + <usize>r * ldt, o = dst + ((<usize>r * <usize>ld) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) v128.store(at(o, d), epilogue(v128.load(at(t, d)), vs, useScale, f16));
    for (; d < D; d++) store<f32>(at(o, d), f32x4.extract_lane(epilogue(f32x4.splat(load<f32>(at(t, d))), vs, useScale, f16), 0));
  }
}

/**
 * X[i][d] (i < T, row stride ld elements) packed as B operands with p = i: one NR-column strip per 8
 * columns d, each `kp` ≥ T rows long, rows T.. kp zero (queries that do not exist add nothing).
 */
export function packRows(x: usize, ld: i32, T: i32, kp: i32, D: i32, dst: usize): void {
  for (let d = 0; d < D; d += NR) {
    const strip = dst + <usize>(d * kp * 4);
    packB(x + ((<usize>d) << 2), ld, 1, T, min(NR, D - d), strip);
    memory.fill(strip + <usize>(T * NR * 4), 0, <usize>((kp - T) * NR * 4));
  }
}
