// The memory-lean ("flash") backward of causal attention: nothing of size T×T is kept between the passes.
// The forward (attention.ts with flash) saved only the softmax's m and S per query; the backward recomputes
// the scores block by block and P from them, bit for bit as the forward had it. One task per (b, h):
// key blocks of FLASH_KEYS keys in ascending order; for each, every query strip that sees the block
// recomputes S and P, computes dP = st(dO·Vᵀ) and dS = st(P∘(dP − δ)) with δ = Σ_d dO∘O (FlashAttention's
// row term, where the materialized backward sums P∘dP), and continues dQ's running sum (ascending keys);
// then dV and dK of the block are summed over the queries, in ascending order, from the block's panels.
import { MR, NR, microKernel } from './gemm-microkernel';
import { packA, packB } from './gemm-pack';
import { after, dsPanel, head, packRows, panelKernel, panelProduct, QS, recomputePanel, ROW, roundUp, storeRows,
  storeTransposed } from './attention-panels';
import { madd } from './simd';
import { nextTask, scratch } from './tasks';

/** Keys per block: a multiple of both strip sizes (6 keys, 8 queries). */
export const FLASH_KEYS: i32 = 48;

export function flashBackwardScratchBytes(T: i32, D: i32): i32 {
  const T8 = roundUp(T, QS), D6 = roundUp(D, MR), D8 = roundUp(D, NR);
  let p = after(after(0, T8 * D), T8 * D); // Q and dO strips
  p = after(after(p, D8 * T8), D8 * T8); // Q and dO rows
  p = after(after(after(p, FLASH_KEYS * D), FLASH_KEYS * D), D6 * FLASH_KEYS); // K, V and Kᵀ of a block
  p = after(after(p, T8 * FLASH_KEYS), T8 * FLASH_KEYS); // P and dS panels of a block
  p = after(after(after(p, T8 * D6), MR * D8), T8); // dQᵀ sums, a tile, δ
  return <i32>after(p, QS * D);
}

export function flashAttentionBackward(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32,
  sH: i32, ld: i32, o: usize, dO: usize, oB: i32, oH: i32, ldo: i32, stats: usize, dq: usize, dk: usize, dv: usize, f16: bool): void {
  const strips = (T + QS - 1) / QS;
  const T8 = roundUp(T, QS), D6 = roundUp(D, MR), D8 = roundUp(D, NR);
  const qSt = scratch(), doSt = after(qSt, T8 * D), qRows = after(doSt, T8 * D), doRows = after(qRows, D8 * T8);
  const kBlk = after(doRows, D8 * T8), vBlk = after(kBlk, FLASH_KEYS * D), ktBlk = after(vBlk, FLASH_KEYS * D);
  const pPanels = after(ktBlk, D6 * FLASH_KEYS), sPanels = after(pPanels, T8 * FLASH_KEYS), dqAcc = after(sPanels, T8 * FLASH_KEYS);
  const tile = after(dqAcc, T8 * D6), delta = after(tile, MR * D8), oStrip = after(delta, T8);
  const stripBytes = <usize>(QS * D * 4), panelBytes = <usize>FLASH_KEYS * ROW;
  for (let bh = nextTask(); bh < B * H; bh = nextTask()) {
    const b = bh / H, h = bh % H;
    const qh = head(q, b, h, sB, sH), kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH);
    const oh = head(o, b, h, oB, oH), dOh = head(dO, b, h, oB, oH);
    const sth = stats + ((<usize>(bh * strips * 16)) << 2);
    packRows(qh, ld, T, T8, D, qRows);
    packRows(dOh, ldo, T, T8, D, doRows);
    for (let s = 0; s < strips; s++) {
      const i0 = s * QS, iv = min(QS, T - i0);
      packB(qh + ((<usize>i0 * <usize>ld) << 2), 1, ld, D, iv, qSt + <usize>s * stripBytes);
      packB(dOh + ((<usize>i0 * <usize>ldo) << 2), 1, ldo, D, iv, doSt + <usize>s * stripBytes);
      // δ = Σ_d dO∘O per query, ascending d.
      packB(oh + ((<usize>i0 * <usize>ldo) << 2), 1, ldo, D, iv, oStrip);
      let a0 = f32x4.splat(0), a1 = a0;
      for (let d = 0; d < D; d++) {
        const x = oStrip + <usize>d * ROW, y = doSt + <usize>s * stripBytes + <usize>d * ROW;
        a0 = madd(v128.load(x), v128.load(y), a0);
        a1 = madd(v128.load(x, 16), v128.load(y, 16), a1);
      }
      v128.store(delta + ((<usize>i0) << 2), a0);
      v128.store(delta + ((<usize>i0) << 2), a1, 16);
    }
    for (let j0 = 0; j0 < T; j0 += FLASH_KEYS) {
      const kv = min(FLASH_KEYS, T - j0), rows = roundUp(kv, MR), s0 = j0 / QS;
      const kb = kh + ((<usize>j0 * <usize>ld) << 2);
      packA(kb, ld, 1, kv, D, kBlk);
      packA(vh + ((<usize>j0 * <usize>ld) << 2), ld, 1, kv, D, vBlk);
      packA(kb, 1, ld, D, kv, ktBlk);
      for (let s = s0; s < strips; s++) {
        const i0 = s * QS, iv = min(QS, T - i0);
        const pp = pPanels + <usize>(s - s0) * panelBytes, sp = sPanels + <usize>(s - s0) * panelBytes;
        for (let j = 0; j < rows; j += MR) {
          microKernel(D, kBlk + <usize>(j * D * 4), qSt + <usize>s * stripBytes, pp + <usize>j * ROW, ROW, true);
          microKernel(D, vBlk + <usize>(j * D * 4), doSt + <usize>s * stripBytes, sp + <usize>j * ROW, ROW, true);
        }
        recomputePanel(pp, rows, j0, i0, iv, scale, f16, sth + <usize>(s * 64));
        dsPanel(pp, sp, sp, rows, j0, i0, iv, delta + ((<usize>i0) << 2), f16);
        panelProduct(kv, ktBlk, kv, D, sp, dqAcc + <usize>(s * D6) * ROW, j0 == 0);
      }
      for (let jl = 0; jl < rows; jl += MR) {
        const n = min(MR, kv - jl), at = (<usize>(j0 + jl) * <usize>ld) << 2;
        for (let d = 0; d < D; d += NR) {
          panelKernel(pPanels + <usize>jl * ROW, panelBytes, 0, strips - s0, doRows + <usize>((d * T8 + s0 * QS * NR) * 4),
            tile + ((<usize>d) << 2), <usize>(D8 * 4));
        }
        storeRows(tile, <usize>(D8 * 4), n, D, head(dv, b, h, sB, sH) + at, ld, 1, false, f16);
        for (let d = 0; d < D; d += NR) {
          panelKernel(sPanels + <usize>jl * ROW, panelBytes, 0, strips - s0, qRows + <usize>((d * T8 + s0 * QS * NR) * 4),
            tile + ((<usize>d) << 2), <usize>(D8 * 4));
        }
        storeRows(tile, <usize>(D8 * 4), n, D, head(dk, b, h, sB, sH) + at, ld, scale, true, f16);
      }
    }
    const dqh = head(dq, b, h, sB, sH);
    for (let s = 0; s < strips; s++) {
      const i0 = s * QS;
      storeTransposed(dqAcc + <usize>(s * D6) * ROW, D, min(QS, T - i0), dqh + ((<usize>i0 * <usize>ld) << 2), ld, scale, true, f16);
    }
  }
}
