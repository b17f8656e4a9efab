// Causal self-attention, tiled with an online softmax (FlashAttention style): the T×T scores never exist in
// memory. The forward keeps, per query row, the running max m and sum l and rescales its output
// accumulator as key blocks arrive; it saves lse = m + log l. The backward recomputes P = exp(S − lse)
// block by block. Layouts as in attention.ts; lse is [B, H, T]. Head dimension D ≤ 256.
import { MR, NR, microKernel } from './gemm-microkernel';
import { packA, packB } from './gemm-pack';
import { at, hmax, lanesBelow, loadLanes, storeLanes } from './simd';
import { nextTask, scratch, SCRATCH_BYTES } from './tasks';
import { expFast, expFastScalar } from './vmath';

/** Query rows (BR) and key columns (BC) per block; equal, so diagonal blocks are aligned. */
export const FLASH_BLOCK: i32 = 64;
const BR = FLASH_BLOCK;
const BC = FLASH_BLOCK;
export const FLASH_MAX_D: i32 = 256;
/** Block rows rounded up to the micro-kernel's MR: tiles are written MR rows at a time. */
const ROWS: i32 = (FLASH_BLOCK + MR - 1) / MR * MR;
const PANEL: usize = <usize>(ROWS * FLASH_MAX_D * 4); // one packed operand of up to 64(+pad)×256
const SQUARE: usize = <usize>(ROWS * BC * 4); // one 64(+pad)×64 tile
const S_LD: usize = <usize>(BC * 4);
const O_LD: usize = <usize>(FLASH_MAX_D * 4);

// @ts-ignore: decorator
@inline function head(base: usize, b: i32, h: i32, sB: i32, sH: i32): usize {
  return base + ((<usize>b * <usize>sB + <usize>h * <usize>sH) << 2);
}

/**
 * tile[rows×cols] (row stride ldt bytes) = A·B from packed operands with inner dimension kc; rows, cols
 * padded. Causal shapes on a diagonal block (row r of the block sees columns c ≤ r) skip work that only
 * meets zeros: `mask` 1 skips micro-tiles wholly above the diagonal (S, dP); 2 ends row strip ir's inner
 * dimension at ir + MR (A is zero past the diagonal: P·V, dS·K); 3 starts column strip jr... of the
 * transposed products at k = jr (Aᵀ is zero before it: Pᵀ·dO, dSᵀ·Q). Skipped products are exact zeros,
 * so results do not change.
 */
function product(kc: i32, pa: usize, pb: usize, rows: i32, cols: i32, tile: usize, ldt: usize, first: bool, mask: i32 = 0): void {
  for (let jr = 0; jr < cols; jr += NR) {
    for (let ir = 0; ir < rows; ir += MR) {
      const out = tile + <usize>ir * ldt + ((<usize>jr) << 2);
      if (mask == 1 && jr >= ir + MR) continue;
      let k0 = 0, k1 = kc;
      if (mask == 2) k1 = min(kc, ir + MR);
      if (mask == 3) k0 = min(ir, kc);
      if (k0 >= k1) {
        if (first) for (let r = 0; r < MR; r++) { v128.store(out + <usize>r * ldt, f32x4.splat(0)); v128.store(out + <usize>r * ldt, f32x4.splat(0), 16); }
        continue;
      }
      microKernel(k1 - k0, pa + <usize>((ir * kc + k0 * MR) * 4), pb + <usize>((jr * kc + k0 * NR) * 4), out, ldt, first);
    }
  }
}

export function flashAttentionForward(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32, sH: i32,
  ld: i32, o: usize, oB: i32, oH: i32, ldo: i32, lse: usize): void {
  const pQ = scratch(), pK = pQ + PANEL, pV = pK + PANEL, S = pV + PANEL, pP = S + SQUARE, acc = pP + SQUARE;
  const mRow = acc + <usize>ROWS * O_LD, lRow = mRow + <usize>(BR * 4);
  const blocks = (T + BR - 1) / BR;
  const vs = f32x4.splat(scale);
  for (let t = nextTask(); t < B * H * blocks; t = nextTask()) {
    const bh = t / blocks;
    const b = bh / H, h = bh % H;
    const i0 = (t % blocks) * BR;
    const rows = min(BR, T - i0);
    const qh = head(q, b, h, sB, sH), kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH);
    packA(at(qh, i0 * ld), ld, 1, rows, D, pQ);
    for (let r = 0; r < BR; r++) { store<f32>(at(mRow, r), -Infinity); store<f32>(at(lRow, r), 0); }
    memory.fill(acc, 0, <usize>ROWS * O_LD);
    for (let j0 = 0; j0 < i0 + rows; j0 += BC) {
      const cols = min(BC, i0 + rows - j0);
      packB(at(kh, j0 * ld), 1, ld, D, cols, pK);
      const diagonal = j0 == i0;
      product(D, pQ, pK, rows, cols, S, S_LD, true, diagonal ? 1 : 0);
      for (let r = 0; r < rows; r++) {
        const valid = min(cols, i0 + r - j0 + 1); // keys j0 + j ≤ i0 + r
        const sr = S + <usize>r * S_LD;
        let mv = f32x4.splat(-Infinity);
        for (let j = 0; j < valid; j += 4) {
          const s = f32x4.mul(v128.load(at(sr, j)), vs);
          v128.store(at(sr, j), s);
          mv = f32x4.pmax(mv, v128.bitselect(s, f32x4.splat(-Infinity), lanesBelow(valid - j)));
        }
        const mOld = load<f32>(at(mRow, r));
        const mNew = max(mOld, hmax(mv));
        const alpha = expFastScalar(mOld - mNew);
        const vm = f32x4.splat(mNew);
        let sum = f32x4.splat(0);
        for (let j = 0; j < cols; j += 4) {
          const e = v128.and(expFast(f32x4.sub(v128.load(at(sr, j)), vm)), lanesBelow(valid - j));
          sum = f32x4.add(sum, e);
          v128.store(at(sr, j), e);
        }
        store<f32>(at(lRow, r), load<f32>(at(lRow, r)) * alpha + ((f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1)) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3))));
        store<f32>(at(mRow, r), mNew);
        if (alpha != 1) {
          const va = f32x4.splat(alpha);
          const ar = acc + <usize>r * O_LD;
          for (let d = 0; d < D; d += 4) v128.store(at(ar, d), f32x4.mul(v128.load(at(ar, d)), va));
        }
      }
      packA(S, BC, 1, rows, cols, pP); // P (now in S) as the A operand of P·V
      packB(at(vh, j0 * ld), ld, 1, cols, D, pV);
      product(cols, pP, pV, rows, D, acc, O_LD, false, diagonal ? 2 : 0);
    }
    const oh = at(head(o, b, h, oB, oH), i0 * ldo);
    const lh = at(lse, bh * T + i0);
    for (let r = 0; r < rows; r++) {
      const l = load<f32>(at(lRow, r));
      const inv = f32x4.splat(<f32>1.0 / l);
      const ar = acc + <usize>r * O_LD;
      for (let d = 0; d < D; d += 4) storeLanes(at(oh, r * ldo), d, D, f32x4.mul(v128.load(at(ar, d)), inv));
      store<f32>(at(lh, r), load<f32>(at(mRow, r)) + Mathf.log(l));
    }
  }
}

/**
 * Backward, one task per (b, h), key blocks in ascending order: per key block j, dK_j and dV_j accumulate
 * over the query blocks i ≥ j, and dQ_i accumulates dS_ij·K_j in ascending j, so every sum has one fixed
 * order. P = exp(scale·S − lse) is recomputed; dS = scale·P∘(dP − rowsum(dO∘O)).
 */
export function flashAttentionBackward(B: i32, H: i32, T: i32, D: i32, scale: f32, q: usize, k: usize, v: usize, sB: i32,
  sH: i32, ld: i32, o: usize, dO: usize, oB: i32, oH: i32, ldo: i32, lse: usize, dq: usize, dk: usize, dv: usize): void {
  const pKt = scratch(), pVt = pKt + PANEL, pKn = pVt + PANEL, pQa = pKn + PANEL, pdOa = pQa + PANEL;
  const pQb = pdOa + PANEL, pdOb = pQb + PANEL, P = pdOb + PANEL, dP = P + SQUARE, pA = dP + SQUARE;
  const dKacc = pA + SQUARE, dVacc = dKacc + <usize>ROWS * O_LD, dQt = dVacc + <usize>ROWS * O_LD, delta = dQt + <usize>ROWS * O_LD;
  // Q and dO of every query block, packed once per head in both operand forms, when they fit the scratch.
  const blocks = (T + BR - 1) / BR;
  const panel = <usize>(ROWS * ((D + NR - 1) & ~(NR - 1)) * 4);
  const packed = (delta + ((<usize>T) << 2) + 63) & ~63;
  const prepack = packed + 4 * <usize>blocks * panel <= scratch() + <usize>SCRATCH_BYTES;
  const vs = f32x4.splat(scale);
  for (let bh = nextTask(); bh < B * H; bh = nextTask()) {
    const b = bh / H, h = bh % H;
    const qh = head(q, b, h, sB, sH), kh = head(k, b, h, sB, sH), vh = head(v, b, h, sB, sH);
    const oh = head(o, b, h, oB, oH), dOh = head(dO, b, h, oB, oH);
    const dqh = head(dq, b, h, sB, sH), dkh = head(dk, b, h, sB, sH), dvh = head(dv, b, h, sB, sH);
    const lh = at(lse, bh * T);
    for (let i = 0; i < T; i++) {
      let a = f32x4.splat(0);
      for (let d = 0; d < D; d += 4) a = f32x4.add(a, f32x4.mul(loadLanes(at(dOh, i * ldo), d, D), loadLanes(at(oh, i * ldo), d, D)));
      store<f32>(at(delta, i), (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)));
      for (let d = 0; d < D; d += 4) storeLanes(at(dqh, i * ld), d, D, f32x4.splat(0));
    }
    if (prepack) {
      for (let ib = 0; ib < blocks; ib++) packQdO(qh, dOh, ld, ldo, ib * BR, min(BR, T - ib * BR), D,
        packed + <usize>ib * panel, packed + <usize>(blocks + ib) * panel, packed + <usize>(2 * blocks + ib) * panel, packed + <usize>(3 * blocks + ib) * panel);
    }
    for (let j0 = 0; j0 < T; j0 += BC) {
      const cols = min(BC, T - j0);
      packB(at(kh, j0 * ld), 1, ld, D, cols, pKt);
      packB(at(vh, j0 * ld), 1, ld, D, cols, pVt);
      packB(at(kh, j0 * ld), ld, 1, cols, D, pKn);
      memory.fill(dKacc, 0, <usize>ROWS * O_LD);
      memory.fill(dVacc, 0, <usize>ROWS * O_LD);
      for (let i0 = j0; i0 < T; i0 += BR) {
        const rows = min(BR, T - i0);
        const ib = i0 / BR;
        let qa = pQa, doa = pdOa, qb = pQb, dob = pdOb;
        if (prepack) {
          qa = packed + <usize>ib * panel; doa = packed + <usize>(blocks + ib) * panel;
          qb = packed + <usize>(2 * blocks + ib) * panel; dob = packed + <usize>(3 * blocks + ib) * panel;
        } else {
          packQdO(qh, dOh, ld, ldo, i0, rows, D, qa, doa, qb, dob);
        }
        const diagonal = i0 == j0;
        product(D, qa, pKt, rows, cols, P, S_LD, true, diagonal ? 1 : 0);
        product(D, doa, pVt, rows, cols, dP, S_LD, true, diagonal ? 1 : 0);
        for (let r = 0; r < rows; r++) {
          const valid = min(cols, i0 + r - j0 + 1);
          const pr = P + <usize>r * S_LD, dpr = dP + <usize>r * S_LD;
          const lr = f32x4.splat(load<f32>(at(lh, i0 + r)));
          const dr = f32x4.splat(load<f32>(at(delta, i0 + r)));
          for (let j = 0; j < cols; j += 4) {
            const p = v128.and(expFast(f32x4.sub(f32x4.mul(v128.load(at(pr, j)), vs), lr)), lanesBelow(valid - j));
            v128.store(at(pr, j), p);
            v128.store(at(dpr, j), f32x4.mul(vs, f32x4.mul(p, f32x4.sub(v128.load(at(dpr, j)), dr)))); // dS
          }
        }
        // dV_j += Pᵀ·dO_i and dK_j += dSᵀ·Q_i (inner dimension: the rows of block i).
        packA(P, 1, BC, cols, rows, pA);
        product(rows, pA, dob, cols, D, dVacc, O_LD, false, diagonal ? 3 : 0);
        packA(dP, 1, BC, cols, rows, pA);
        product(rows, pA, qb, cols, D, dKacc, O_LD, false, diagonal ? 3 : 0);
        // dQ_i += dS·K_j.
        packA(dP, BC, 1, rows, cols, pA);
        product(cols, pA, pKn, rows, D, dQt, O_LD, true, diagonal ? 2 : 0);
        for (let r = 0; r < rows; r++) {
          const dst = at(dqh, (i0 + r) * ld);
          for (let d = 0; d < D; d += 4) storeLanes(dst, d, D, f32x4.add(loadLanes(dst, d, D), v128.load(at(dQt + <usize>r * O_LD, d))));
        }
      }
      for (let r = 0; r < cols; r++) {
        for (let d = 0; d < D; d += 4) {
          storeLanes(at(dkh, (j0 + r) * ld), d, D, v128.load(at(dKacc + <usize>r * O_LD, d)));
          storeLanes(at(dvh, (j0 + r) * ld), d, D, v128.load(at(dVacc + <usize>r * O_LD, d)));
        }
      }
    }
  }
}

/** Q and dO rows [i0, i0 + rows) of one head packed as A operands (k = D) and as B operands (k = rows). */
function packQdO(qh: usize, dOh: usize, ld: i32, ldo: i32, i0: i32, rows: i32, D: i32, qa: usize, doa: usize, qb: usize, dob: usize): void {
  packA(at(qh, i0 * ld), ld, 1, rows, D, qa);
  packA(at(dOh, i0 * ldo), ldo, 1, rows, D, doa);
  packB(at(qh, i0 * ld), ld, 1, rows, D, qb);
  packB(at(dOh, i0 * ldo), ldo, 1, rows, D, dob);
}
