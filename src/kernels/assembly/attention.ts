// Causal self-attention, per (batch, head), in the order of Kernels.attention / attentionBackward (the js
// reference composes batched GEMMs and the causal softmax): S = st(scale·Q·Kᵀ), P = softmax(S) over j ≤ i,
// O = P·V; backward dP = dO·Vᵀ, dV = Pᵀ·dO, D = Σ_j P∘dP, dS = P∘(dP − D), dQ = st(st(dS·K)·scale),
// dK = st(st(dSᵀ·Q)·scale). Every sum runs in ascending order one term at a time (fused in the relaxed
// build), so the portable build gives the reference's bits.
//
// Work goes by strips of 8 queries (attention-panels.ts): the strip's transposed scores are one panel.
// - materialized: the panels of P are kept in `saved` (panel q: 8q + 12 rows of 8 floats, the lower
//   triangle and a little more: about T²/2 floats per head) and the backward runs three passes: dV by key
//   strips from P, then dP, D and dS (written over P) and dQ by query strips, then dK by key strips.
// - flash: the panel lives in scratch and `saved` keeps the softmax's m and S per query (16 floats per
//   strip); flash-attention.ts recomputes P from them.
// Q, K, V (and dQ, dK, dV) share one layout, O and dO another: element (b, h, t, d) is at
// base + b·sB + h·sH + t·ld + d (elements).
import { MR, NR, microKernel } from './gemm-microkernel';
import { packA, packB } from './gemm-pack';
import { after, dsPanel, head, packRows, panelKernel, panelOffset, panelProduct, partsPerHead, QS, ROW, roundUp, rowDots,
  savedFloatsPerHead, softmaxPanel, storeRows, storeTransposed } from './attention-panels';
import { flashBackwardScratchBytes } from './flash-attention';
import { nextTask, scratch } from './tasks';

/** Per-thread scratch bytes that a forward and backward of this variant need (the caller makes sure they are there). */
export function attentionScratchBytes(T: i32, D: i32, flash: bool): i32 {
  return max(forwardScratchBytes(T, D, flash), flash ? flashBackwardScratchBytes(T, D) : materializedBackwardScratchBytes(T, D));
}

function forwardScratchBytes(T: i32, D: i32, flash: bool): i32 {
  const T6 = roundUp(T, MR), D6 = roundUp(D, MR);
  return <i32>(after(after(after(after(after(0, T6 * D), D6 * T), QS * D), D6 * QS), 16) + (flash ? (<usize>(T6 * QS * 4)) : 0));
}

function materializedBackwardScratchBytes(T: i32, D: i32): i32 {
  const T6 = roundUp(T, MR), D6 = roundUp(D, MR);
  const queries = after(after(after(after(after(0, T6 * D), D6 * T), QS * D), T6 * QS), D6 * QS) + 32;
  const keys = after(0, roundUp(D, NR) * roundUp(T, QS)) + <usize>(MR * roundUp(D, NR) * 4);
  return <i32>max(queries, keys);
}

/**
 * Forward: O (and P in `saved`, or m and S with `flash`) for every (b, h). Tasks are (b, h, part); a part
 * takes every parts-th query strip and packs K (A operand, p = d) and Vᵀ (A operand, p = key) once.
 */
export function attentionForward(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32, sH: i32,
  ld: i32, o: usize, oB: i32, oH: i32, ldo: i32, saved: usize, flash: bool, f16: bool): void {
  const strips = (T + QS - 1) / QS, parts = partsPerHead(B * H, strips);
  const T6 = roundUp(T, MR), D6 = roundUp(D, MR);
  const kPack = scratch(), vT = after(kPack, T6 * D), qStrip = after(vT, D6 * T), tile = after(qStrip, QS * D);
  const stats = after(tile, D6 * QS), work = after(stats, 16);
  const perHead = <usize>savedFloatsPerHead(T, flash);
  for (let t = nextTask(); t < B * H * parts; t = nextTask()) {
    const bh = t / parts, part = t % parts;
    const b = bh / H, h = bh % H;
    const qh = head(q, b, h, sB, sH), kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH), oh = head(o, b, h, oB, oH);
    const sh = saved + ((<usize>bh * <usize>perHead) << 2);
    packA(kh, ld, 1, T, D, kPack);
    packA(vh, 1, ld, D, T, vT);
    for (let s = part; s < strips; s += parts) {
      const i0 = s * QS, iv = min(QS, T - i0), rows = roundUp(i0 + iv, MR);
      const panel = flash ? work : sh + ((<usize>panelOffset(s)) << 2);
      packB(qh + ((<usize>i0 * <usize>ld) << 2), 1, ld, D, iv, qStrip);
      for (let j = 0; j < rows; j += MR) microKernel(D, kPack + <usize>(j * D * 4), qStrip, panel + <usize>j * ROW, ROW, true);
      softmaxPanel(panel, rows, 0, i0, iv, scale, f16, flash ? sh + <usize>(s * 64) : stats, flash);
      panelProduct(i0 + iv, vT, T, D, panel, tile, true);
      storeTransposed(tile, D, iv, oh + ((<usize>i0 * <usize>ldo) << 2), ldo, 1, false, f16);
    }
  }
}

/** Key strips per block of the key passes: the panel rows of a block (48 keys) are read together. */
const KEY_BLOCK: i32 = 8;

/**
 * out[j] = epilogue(Σ_{i} M[i][j]·X[i]) for every key j, from the saved panels of M (P: dV = Pᵀ·dO; dS:
 * dK = dSᵀ·Q, with the ·scale epilogue). Tasks are (b, h, part); a part takes every parts-th block of
 * KEY_BLOCK key strips, whose rows in each panel are adjacent (the panels of a long head live in main
 * memory; strips one by one would fetch them line by line at a growing stride).
 */
export function attentionBackwardKeys(B: i32, H: i32, T: i32, D: i32, saved: usize, x: usize, xB: i32, xH: i32, ldx: i32,
  out: usize, sB: i32, sH: i32, ld: i32, scale: f32, useScale: bool, f16: bool): void {
  const strips = (T + QS - 1) / QS, keyStrips = (T + MR - 1) / MR, blocks = (keyStrips + KEY_BLOCK - 1) / KEY_BLOCK;
  const parts = partsPerHead(B * H, blocks);
  const T8 = roundUp(T, QS), D8 = roundUp(D, NR);
  const xPack = scratch(), tile = after(xPack, D8 * T8);
  const perHead = <usize>savedFloatsPerHead(T, false);
  for (let t = nextTask(); t < B * H * parts; t = nextTask()) {
    const bh = t / parts, part = t % parts;
    const b = bh / H, h = bh % H;
    const sh = saved + ((<usize>bh * <usize>perHead) << 2);
    const outh = head(out, b, h, sB, sH);
    packRows(head(x, b, h, xB, xH), ldx, T, T8, D, xPack);
    for (let blk = part; blk < blocks; blk += parts) {
      for (let ks = blk * KEY_BLOCK; ks < min(keyStrips, (blk + 1) * KEY_BLOCK); ks++) {
        const j0 = ks * MR, s0 = j0 / QS; // the first strip with a query that sees key j0
        const pa = sh + ((<usize>(panelOffset(s0) + j0 * QS)) << 2);
        for (let d = 0; d < D; d += NR) {
          panelKernel(pa, <usize>(64 * s0 + 96) * 4, 256, strips - s0, xPack + <usize>((d * T8 + s0 * QS * NR) * 4),
            tile + ((<usize>d) << 2), <usize>(D8 * 4));
        }
        storeRows(tile, <usize>(D8 * 4), min(MR, T - j0), D, outh + ((<usize>j0 * <usize>ld) << 2), ld, scale, useScale, f16);
      }
    }
  }
}

/**
 * The query part of the materialized backward: per strip, dP = st(dO·Vᵀ), D = Σ P∘dP, dS = st(P∘(dP − D))
 * written over P in `saved`, and dQ = st(st(dS·K)·scale).
 */
export function attentionBackwardQueries(B: i32, H: i32, T: i32, D: i32, scale: f32, k: usize, v: usize, sB: i32, sH: i32,
  ld: i32, dO: usize, oB: i32, oH: i32, ldo: i32, saved: usize, dq: usize, f16: bool): void {
  const strips = (T + QS - 1) / QS, parts = partsPerHead(B * H, strips);
  const T6 = roundUp(T, MR), D6 = roundUp(D, MR);
  const vPack = scratch(), kT = after(vPack, T6 * D), doStrip = after(kT, D6 * T), dP = after(doStrip, QS * D);
  const tile = after(dP, T6 * QS), dots = after(tile, D6 * QS);
  const perHead = <usize>savedFloatsPerHead(T, false);
  for (let t = nextTask(); t < B * H * parts; t = nextTask()) {
    const bh = t / parts, part = t % parts;
    const b = bh / H, h = bh % H;
    const kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH), dOh = head(dO, b, h, oB, oH), dqh = head(dq, b, h, sB, sH);
    const sh = saved + ((<usize>bh * <usize>perHead) << 2);
    packA(vh, ld, 1, T, D, vPack);
    packA(kh, 1, ld, D, T, kT);
    for (let s = part; s < strips; s += parts) {
      const i0 = s * QS, iv = min(QS, T - i0), rows = roundUp(i0 + iv, MR);
      const panel = sh + ((<usize>panelOffset(s)) << 2);
      packB(dOh + ((<usize>i0 * <usize>ldo) << 2), 1, ldo, D, iv, doStrip);
      for (let j = 0; j < rows; j += MR) microKernel(D, vPack + <usize>(j * D * 4), doStrip, dP + <usize>j * ROW, ROW, true);
      rowDots(panel, dP, rows, 0, i0, iv, f16, dots);
      dsPanel(panel, dP, panel, rows, 0, i0, iv, dots, f16);
      panelProduct(i0 + iv, kT, T, D, panel, tile, true);
      storeTransposed(tile, D, iv, dqh + ((<usize>i0 * <usize>ld) << 2), ld, scale, true, f16);
    }
  }
}
