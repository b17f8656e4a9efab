// SGEMM for the three training products, with the epilogue of the Kernels.gemm contract
// (alpha, bias, binary16 storage, accumulate). Numerics: every output is Σ_p a·b accumulated one product at a
// time in ascending p, starting from 0 (fused multiply-adds in the relaxed build, rounded product then rounded
// sum in the portable build, which is exactly the reference order). Blocking and threading only decide
// where partial sums live, never the order in which products are added.
import { MR, NR, microKernel } from './gemm-microkernel';
import { packA, packB } from './gemm-pack';
import { round16x4 } from './fp16';
import { imin } from './simd';
import { nextTask, scratch } from './tasks';

/** k-block: one packed B strip (KC·NR floats, 8 KiB) stays in L1 while MC rows of A stream past it. */
export const KC: i32 = 256;
/** Rows of A packed at a time (MC·KC floats = 48 KiB, L1/L2). */
export const MC: i32 = 48;
/** One task computes a TM×TN tile of C; the packed B panel (KC·TN floats = 256 KiB) stays in L2. */
export const TM: i32 = 192;
export const TN: i32 = 256;
/** Below this many tasks, tiles are halved (down to MC rows, 64 columns). */
const MIN_TASKS: i32 = 8;

const PACKED_A_BYTES: usize = <usize>(MC * KC * 4);
const PACKED_B_BYTES: usize = <usize>(KC * TN * 4);
/** A task's partial sums: TM×TN floats, row stride TN. */
export const TILE_LD: usize = <usize>(TN * 4);
export const GEMM_SCRATCH_BYTES: i32 = MC * KC * 4 + KC * TN * 4 + TM * TN * 4;

/** Epilogue flags (bit set). */
export const GEMM_ALPHA: i32 = 1;
export const GEMM_BIAS: i32 = 2;
export const GEMM_ACCUMULATE: i32 = 4;
export const GEMM_F16: i32 = 8;

/** op codes: 0 'nn' C = A·B; 1 'nt' C = A·Bᵀ (B stored n×k); 2 'tn' C = Aᵀ·B (A stored k×m). */
export const OP_NN: i32 = 0;
export const OP_NT: i32 = 1;
export const OP_TN: i32 = 2;

/**
 * `batch` products C_b = epilogue(op(A_b)·op(B_b)), C m×n, inner dimension k. Leading dimensions and batch
 * strides are in elements. The epilogue per output: s·alpha (flag ALPHA), + bias[j] (BIAS), binary16
 * rounding (F16), then C = C + s (ACCUMULATE, rounded again under F16).
 */
export function gemm(op: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  alpha: f32, bias: usize, flags: i32, batch: i32, strideA: i32, strideB: i32, strideC: i32): void {
  const ars = op == OP_TN ? 1 : lda;
  const acs = op == OP_TN ? lda : 1;
  const brs = op == OP_NT ? 1 : ldb;
  const bcs = op == OP_NT ? ldb : 1;
  // Small outputs get smaller tiles, so there are tasks to share out. A tile's size never changes the order
  // in which an output's products are added, so this choice (by shape only) cannot change any result.
  let tm = TM, tn = TN;
  while (batch * ((m + tm - 1) / tm) * ((n + tn - 1) / tn) < MIN_TASKS && (tm > MC || tn > 2 * NR * 4)) {
    if (tm > MC && (tm >= tn || tn <= 2 * NR * 4)) tm >>= 1;
    else tn >>= 1;
  }
  const tilesM = (m + tm - 1) / tm;
  const tilesN = (n + tn - 1) / tn;
  const perBatch = tilesM * tilesN;
  const total = batch * perBatch;
  for (let t = nextTask(); t < total; t = nextTask()) {
    const bi = t / perBatch;
    const i0 = ((t % perBatch) / tilesN) * tm;
    const j0 = ((t % perBatch) % tilesN) * tn;
    const ab = a + ((<usize>bi * <usize>strideA + <usize>i0 * <usize>ars) << 2);
    const bb = b + ((<usize>bi * <usize>strideB + <usize>j0 * <usize>bcs) << 2);
    const cb = c + ((<usize>bi * <usize>strideC + <usize>i0 * <usize>ldc + <usize>j0) << 2);
    const tile = gemmTile(ab, ars, acs, bb, brs, bcs, imin(tm, m - i0), imin(tn, n - j0), k);
    epilogue(tile, imin(tm, m - i0), imin(tn, n - j0), cb, ldc, alpha, bias + ((<usize>j0) << 2), flags);
  }
}

/**
 * Σ_p A[i][p]·B[p][j] for i < rows ≤ TM, j < cols ≤ TN into this thread's tile (row stride TN); returns it.
 * A[i][p] is at a + (i·ars + p·acs)·4 and B[p][j] at b + (p·brs + j·bcs)·4.
 */
export function gemmTile(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, rows: i32, cols: i32, k: i32): usize {
  const packedA = scratch();
  const packedB = packedA + PACKED_A_BYTES;
  const tile = packedB + PACKED_B_BYTES;
  if (k == 0) memory.fill(tile, 0, <usize>rows * TILE_LD);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = imin(KC, k - pc);
    packB(b + ((<usize>pc * <usize>brs) << 2), brs, bcs, kc, cols, packedB);
    for (let ic = 0; ic < rows; ic += MC) {
      const mc = imin(MC, rows - ic);
      packA(a + ((<usize>ic * <usize>ars + <usize>pc * <usize>acs) << 2), ars, acs, mc, kc, packedA);
      for (let jr = 0; jr < cols; jr += NR) {
        const pb = packedB + <usize>(jr * kc * 4);
        for (let ir = 0; ir < mc; ir += MR) {
          microKernel(kc, packedA + <usize>(ir * kc * 4), pb, tile + <usize>(ic + ir) * TILE_LD + ((<usize>jr) << 2), TILE_LD, pc == 0);
        }
      }
    }
  }
  return tile;
}

function epilogue(tile: usize, rows: i32, cols: i32, c: usize, ldc: i32, alpha: f32, bias: usize, flags: i32): void {
  const useAlpha = (flags & GEMM_ALPHA) != 0;
  const useBias = (flags & GEMM_BIAS) != 0;
  const f16 = (flags & GEMM_F16) != 0;
  const accumulate = (flags & GEMM_ACCUMULATE) != 0;
  const va = f32x4.splat(alpha);
  for (let i = 0; i < rows; i++) {
    const t = tile + <usize>i * TILE_LD;
    const o = c + ((<usize>i * <usize>ldc) << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const jb = (<usize>j) << 2;
      let s = v128.load(t + jb);
      if (useAlpha) s = f32x4.mul(s, va);
      if (useBias) s = f32x4.add(s, v128.load(bias + jb));
      if (f16) s = round16x4(s);
      if (accumulate) {
        s = f32x4.add(v128.load(o + jb), s);
        if (f16) s = round16x4(s);
      }
      v128.store(o + jb, s);
    }
    for (; j < cols; j++) {
      const jb = (<usize>j) << 2;
      let s = f32x4.splat(load<f32>(t + jb));
      if (useAlpha) s = f32x4.mul(s, va);
      if (useBias) s = f32x4.add(s, f32x4.splat(load<f32>(bias + jb)));
      if (f16) s = round16x4(s);
      if (accumulate) {
        s = f32x4.add(f32x4.splat(load<f32>(o + jb)), s);
        if (f16) s = round16x4(s);
      }
      store<f32>(o + jb, f32x4.extract_lane(s, 0));
    }
  }
}
