import type { AttentionArgs, FloatBuf } from '../kernels.js';
import { scale } from './elementwise.js';
import { gemm } from './gemm.js';
import type { Rounding } from './rounding.js';
import { causalSoftmax, causalSoftmaxBackward } from './softmax.js';

/**
 * Causal attention in the reference order (Kernels.attention): the batched GEMMs over the heads of one
 * sequence, reading q, k and v in place from the fused QKV rows, and the causal softmax over all heads.
 * `saved` holds the probabilities [batch, heads, seq, seq].
 */
export function attention(R: Rounding, a: AttentionArgs): void {
  materializedOnly(a);
  const { batch, seq: t, headDim: d, qkv, ctx, saved } = a;
  const L = layout(a);
  for (let b = 0; b < batch; b++) bgemm(R, L, 'nt', t, t, d, L.head(qkv, b, Q), L.head(qkv, b, K), L.scores(saved, b), a.scale);
  causalSoftmax(R, { count: batch * a.heads, t, x: saved, y: saved });
  for (let b = 0; b < batch; b++) bgemm(R, L, 'nn', t, d, t, L.scores(saved, b), L.head(qkv, b, V), L.ctx(ctx, b));
}

/** The backward in the reference order (Kernels.attentionBackward); dP needs one [heads, seq, seq] scratch. */
export function attentionBackward(R: Rounding, a: AttentionArgs & { dctx: FloatBuf; dqkv: FloatBuf }): void {
  materializedOnly(a);
  const { batch, seq: t, heads, headDim: d, qkv, saved, dctx, dqkv } = a;
  const L = layout(a);
  const dP = new R.Scratch(heads * t * t);
  const dPv: HeadView = { buf: dP, ld: t, stride: t * t };
  for (let b = 0; b < batch; b++) {
    const P = L.scores(saved, b), dO = L.ctx(dctx, b);
    bgemm(R, L, 'nt', t, t, d, dO, L.head(qkv, b, V), dPv); // dP = dctx·vᵀ
    bgemm(R, L, 'tn', t, d, t, P, dO, L.head(dqkv, b, V)); // dv = Pᵀ·dctx
    causalSoftmaxBackward(R, { count: heads, t, y: P.buf, dy: dP, dx: dP });
    bgemm(R, L, 'nn', t, d, t, dPv, L.head(qkv, b, K), L.head(dqkv, b, Q)); // dq = dS·k
    bgemm(R, L, 'tn', t, d, t, dPv, L.head(qkv, b, Q), L.head(dqkv, b, K)); // dk = dSᵀ·q
  }
  // baddbmm's backward multiplies by alpha after the product: dq and dk (2d adjacent values per head).
  for (let r = 0; r < batch * t; r++) {
    for (let h = 0; h < heads; h++) {
      const x = dqkv.subarray((r * heads + h) * 3 * d);
      scale(R, { n: 2 * d, x, alpha: a.scale, y: x });
    }
  }
}

export function attentionSavedSize(a: { batch: number; seq: number; heads: number; variant?: string }): number {
  materializedOnly(a);
  return a.batch * a.heads * a.seq * a.seq;
}

function materializedOnly(a: { variant?: string }): void {
  if ((a.variant ?? 'materialized') !== 'materialized') throw new RangeError(`js backend: no ${a.variant} attention (it has materialized only)`);
}

/** Positions of q, k and v inside one head's 3·d block of the fused QKV rows. */
const Q = 0;
const K = 1;
const V = 2;

/** One operand of a GEMM batched over the heads: head i starts at element i·stride of buf. */
interface HeadView { buf: FloatBuf; ld: number; stride: number }

function layout(a: AttentionArgs) {
  const { seq: t, heads, headDim: d } = a;
  const h = heads * d;
  return {
    heads,
    /** q, k or v of every head of sequence b in QKV rows: rows 3h apart, heads 3d apart. */
    head: (buf: FloatBuf, b: number, which: number): HeadView => ({ buf: buf.subarray(b * t * 3 * h + which * d), ld: 3 * h, stride: 3 * d }),
    /** The context of sequence b, [seq, hidden]: heads d apart. */
    ctx: (buf: FloatBuf, b: number): HeadView => ({ buf: buf.subarray(b * t * h), ld: h, stride: d }),
    /** The [heads, seq, seq] score or probability matrices of sequence b. */
    scores: (buf: FloatBuf, b: number): HeadView => ({ buf: buf.subarray(b * heads * t * t), ld: t, stride: t * t }),
  };
}

function bgemm(R: Rounding, L: { heads: number }, op: 'nn' | 'nt' | 'tn', m: number, n: number, k: number, A: HeadView, B: HeadView,
  C: HeadView, alpha = 1): void {
  gemm(R, {
    op, m, n, k, alpha, a: A.buf, lda: A.ld, b: B.buf, ldb: B.ld, c: C.buf, ldc: C.ld,
    batch: L.heads, strideA: A.stride, strideB: B.stride, strideC: C.stride,
  });
}
