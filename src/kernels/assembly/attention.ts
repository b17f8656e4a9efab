// Causal self-attention with materialized probabilities, per (batch, head), like the 2022 run's
// (scaled, masked) softmax path: S = scale·Q·Kᵀ, P = softmax(S) with j ≤ i, O = P·V, P kept for the
// backward. The products run on the GEMM tile routine; the causal structure limits every product to the
// blocks at or below the diagonal. Q, K, V (and dQ, dK, dV) share one layout, O and dO another:
// element (b, h, t, d) is at base + b·sB + h·sH + t·ld + d (elements). P is [B, H, T, T] contiguous.
import { gemmTile, GEMM_SCRATCH_BYTES, TILE_LD, TN } from './gemm';
import { at, hmax, lanesBelow, loadLanes, storeLanes } from './simd';
import { nextTask, scratch } from './tasks';
import { expFast } from './vmath';

/** Query rows per task. */
export const ATT_ROWS: i32 = 64;

// @ts-ignore: decorator
@inline function head(base: usize, b: i32, h: i32, sB: i32, sH: i32): usize {
  return base + ((<usize>b * <usize>sB + <usize>h * <usize>sH) << 2);
}

/** Copies rows×cols of a GEMM tile into dst (row stride ld elements), times `mul` when mul ≠ 1. */
function storeTile(tile: usize, rows: i32, cols: i32, dst: usize, ld: i32, mul: f32): void {
  const m = f32x4.splat(mul);
  for (let r = 0; r < rows; r++) {
    const t = tile + <usize>r * TILE_LD;
    const d = at(dst, r * ld);
    for (let j = 0; j < cols; j += 4) {
      const v = loadLanes(t, j, cols);
      storeLanes(d, j, cols, mul == 1 ? v : f32x4.mul(v, m));
    }
  }
}

/** In place: row[0, L) = softmax(row[0, L)), row[L, T) = 0. */
function softmaxRow(row: usize, L: i32, T: i32): void {
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < L; j += 4) mv = f32x4.pmax(mv, v128.bitselect(loadLanes(row, j, L), f32x4.splat(-Infinity), lanesBelow(L - j)));
  const mx = f32x4.splat(hmax(mv));
  let acc = f32x4.splat(0);
  for (let j = 0; j < L; j += 4) {
    const e = v128.and(expFast(f32x4.sub(loadLanes(row, j, L), mx)), lanesBelow(L - j));
    storeLanes(row, j, L, e);
    acc = f32x4.add(acc, e);
  }
  const inv = f32x4.splat(<f32>1.0 / ((f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3))));
  for (let j = 0; j < L; j += 4) storeLanes(row, j, L, f32x4.mul(loadLanes(row, j, L), inv));
  memory.fill(at(row, L), 0, (<usize>(T - L)) << 2);
}

/** Forward: P and O for every (b, h); tasks are (b, h, block of ATT_ROWS query rows). */
export function attentionForward(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32, sH: i32,
  ld: i32, o: usize, oB: i32, oH: i32, ldo: i32, p: usize): void {
  const blocks = (T + ATT_ROWS - 1) / ATT_ROWS;
  for (let t = nextTask(); t < B * H * blocks; t = nextTask()) {
    const bh = t / blocks;
    const b = bh / H, h = bh % H;
    const i0 = (t % blocks) * ATT_ROWS;
    const rows = min(ATT_ROWS, T - i0);
    const iEnd = i0 + rows;
    const qh = head(q, b, h, sB, sH), kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH);
    const ph = p + ((<usize>bh * <usize>T * <usize>T) << 2);
    // S = scale·Q·Kᵀ for the columns this block can see, TN at a time (B[d][j] = K[j][d]).
    for (let j0 = 0; j0 < iEnd; j0 += TN) {
      const cols = min(TN, iEnd - j0);
      const tile = gemmTile(at(qh, i0 * ld), ld, 1, at(kh, j0 * ld), 1, ld, rows, cols, D);
      storeTile(tile, rows, cols, at(ph, i0 * T + j0), T, scale);
    }
    for (let r = 0; r < rows; r++) softmaxRow(at(ph, (i0 + r) * T), i0 + r + 1, T);
    // O = P·V over the columns 0..iEnd (the rest of these rows of P are zero).
    const tile = gemmTile(at(ph, i0 * T), T, 1, vh, ld, 1, rows, D, iEnd);
    storeTile(tile, rows, D, at(head(o, b, h, oB, oH), i0 * ldo), ldo, 1);
  }
}

/**
 * out[j] = mul·Σ_{i ≥ j} M[i][j]·X[i] for every key row j: dV = Pᵀ·dO (M = P, X = dO) and dK = dSᵀ·Q
 * (M = dS, X = Q). Tasks are (b, h, block of ATT_ROWS key rows); each sums over the rows i it can see.
 */
export function attentionBackwardColumns(B: i32, H: i32, T: i32, D: i32, m: usize, x: usize, xB: i32, xH: i32, ldx: i32,
  out: usize, sB: i32, sH: i32, ld: i32): void {
  const blocks = (T + ATT_ROWS - 1) / ATT_ROWS;
  for (let t = nextTask(); t < B * H * blocks; t = nextTask()) {
    const bh = t / blocks;
    const b = bh / H, h = bh % H;
    const j0 = (t % blocks) * ATT_ROWS;
    const rows = min(ATT_ROWS, T - j0);
    const mh = m + ((<usize>bh * <usize>T * <usize>T) << 2);
    // A[jj][i] = M[j0 + i][j0 + jj] (row stride 1, column stride T), inner dimension i over rows j0..T.
    const tile = gemmTile(at(mh, j0 * T + j0), 1, T, at(head(x, b, h, xB, xH), j0 * ldx), ldx, 1, rows, D, T - j0);
    storeTile(tile, rows, D, at(head(out, b, h, sB, sH), j0 * ld), ld, 1);
  }
}

/**
 * Row part of the backward: dP = dO·Vᵀ, dS = scale·P∘(dP − Σ_j P∘dP) (written to ds, which may alias p),
 * dQ = dS·K. Tasks are (b, h, block of ATT_ROWS query rows). dP lives in this thread's scratch.
 */
export function attentionBackwardRows(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32,
  sH: i32, ld: i32, dO: usize, oB: i32, oH: i32, ldo: i32, p: usize, ds: usize, dq: usize): void {
  const blocks = (T + ATT_ROWS - 1) / ATT_ROWS;
  const dP = scratch() + <usize>GEMM_SCRATCH_BYTES; // ATT_ROWS × T floats
  for (let t = nextTask(); t < B * H * blocks; t = nextTask()) {
    const bh = t / blocks;
    const b = bh / H, h = bh % H;
    const i0 = (t % blocks) * ATT_ROWS;
    const rows = min(ATT_ROWS, T - i0);
    const iEnd = i0 + rows;
    const kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH);
    const dOh = head(dO, b, h, oB, oH);
    const ph = p + ((<usize>bh * <usize>T * <usize>T) << 2);
    const dsh = ds + ((<usize>bh * <usize>T * <usize>T) << 2);
    for (let j0 = 0; j0 < iEnd; j0 += TN) {
      const cols = min(TN, iEnd - j0);
      const tile = gemmTile(at(dOh, i0 * ldo), ldo, 1, at(vh, j0 * ld), 1, ld, rows, cols, D);
      storeTile(tile, rows, cols, at(dP, j0), T, 1);
    }
    const vs = f32x4.splat(scale);
    for (let r = 0; r < rows; r++) {
      const L = i0 + r + 1;
      const pr = at(ph, (i0 + r) * T), dpr = at(dP, r * T), dsr = at(dsh, (i0 + r) * T);
      let acc = f32x4.splat(0);
      for (let j = 0; j < L; j += 4) acc = f32x4.add(acc, f32x4.mul(loadLanes(pr, j, L), loadLanes(dpr, j, L)));
      const dsum = f32x4.splat((f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3)));
      for (let j = 0; j < L; j += 4) {
        storeLanes(dsr, j, L, f32x4.mul(vs, f32x4.mul(loadLanes(pr, j, L), f32x4.sub(loadLanes(dpr, j, L), dsum))));
      }
      memory.fill(at(dsr, L), 0, (<usize>(T - L)) << 2);
    }
    const tile = gemmTile(at(dsh, i0 * T), T, 1, kh, ld, 1, rows, D, iEnd);
    storeTile(tile, rows, D, at(head(dq, b, h, sB, sH), i0 * ld), ld, 1);
  }
}
