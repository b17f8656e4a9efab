import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import { Linear } from './linear.js';
import type { Param } from './params.js';
import { rotaryTables } from './rotary.js';

export interface AttentionShape {
  hidden: number;
  heads: number;
  rotDims: number;
  maxPositions: number;
  rotaryBase: number;
}

/**
 * Causal self-attention as gpt-neox/HF GPTNeoX: fused QKV with the per-head interleaved layout (row
 * block [3·d·i, 3·d·(i+1)) of W_qkv is q, k, v of head i), rotary on the first rotDims of q and k,
 * scores = (q·kᵀ)/√d, causal softmax, context = probs·v, then the output dense.
 * All heads of one sequence go through one batched GEMM that reads q/k/v in place from the QKV rows.
 */
export class Attention {
  readonly qkv: Linear;
  readonly dense: Linear;
  private readonly headDim: number;
  private readonly scale: number;
  private readonly cos: FloatBuf;
  private readonly sin: FloatBuf;
  private batch = 0;
  private seq = 0;
  private bufs!: { qkv: FloatBuf; probs: FloatBuf; ctx: FloatBuf; dqkv: FloatBuf; dprobs: FloatBuf; dctx: FloatBuf };

  constructor(private readonly K: Kernels, private readonly s: AttentionShape, p: (name: string) => Param) {
    const h = s.hidden;
    this.qkv = new Linear(K, p('query_key_value.weight'), p('query_key_value.bias'), h, 3 * h, 'gemm');
    this.dense = new Linear(K, p('dense.weight'), p('dense.bias'), h, h, 'after');
    this.headDim = h / s.heads;
    this.scale = 1 / Math.sqrt(this.headDim);
    ({ cos: this.cos, sin: this.sin } = rotaryTables(K, s.maxPositions, s.rotDims, s.rotaryBase));
  }

  private resize(batch: number, seq: number): void {
    if (batch === this.batch && seq === this.seq) return;
    const { K } = this;
    const rows = batch * seq;
    const h = this.s.hidden;
    const scores = batch * this.s.heads * seq * seq;
    this.bufs = {
      qkv: K.alloc(rows * 3 * h), probs: K.alloc(scores), ctx: K.alloc(rows * h),
      dqkv: K.alloc(rows * 3 * h), dprobs: K.alloc(scores), dctx: K.alloc(rows * h),
    };
    this.batch = batch;
    this.seq = seq;
  }

  /** y = attention(x) for x [batch·seq, hidden]. */
  forward(x: FloatBuf, batch: number, seq: number, y: FloatBuf): void {
    this.resize(batch, seq);
    const { K, bufs } = this;
    const rows = batch * seq;
    const [t, d] = [seq, this.headDim];
    this.qkv.forward(x, rows, bufs.qkv);
    this.rotate(bufs.qkv, rows, seq, false);
    for (let b = 0; b < batch; b++) {
      this.bgemm('nt', t, t, d, this.head(bufs.qkv, b, Q), this.head(bufs.qkv, b, K_), this.scores(bufs.probs, b), this.scale);
    }
    K.causalSoftmax({ count: batch * this.s.heads, t, x: bufs.probs, y: bufs.probs });
    for (let b = 0; b < batch; b++) {
      this.bgemm('nn', t, d, t, this.scores(bufs.probs, b), this.head(bufs.qkv, b, V), this.ctx(bufs.ctx, b));
    }
    this.dense.forward(bufs.ctx, rows, y);
  }

  /** dx (+)= ∂L/∂x given dy = ∂L/∂y for the last forward; parameter grads accumulate. */
  backward(x: FloatBuf, dy: FloatBuf, dx: FloatBuf, accumulateDx: boolean): void {
    const { K, bufs, batch } = this;
    const [t, d] = [this.seq, this.headDim];
    const rows = batch * t;
    this.dense.backward(bufs.ctx, dy, rows, bufs.dctx);
    for (let b = 0; b < batch; b++) {
      const dctx = this.ctx(bufs.dctx, b);
      this.bgemm('nt', t, t, d, dctx, this.head(bufs.qkv, b, V), this.scores(bufs.dprobs, b)); // dP = dctx·vᵀ
      this.bgemm('tn', t, d, t, this.scores(bufs.probs, b), dctx, this.head(bufs.dqkv, b, V)); // dv = Pᵀ·dctx
    }
    K.causalSoftmaxBackward({ count: batch * this.s.heads, t, y: bufs.probs, dy: bufs.dprobs, dx: bufs.dprobs });
    for (let b = 0; b < batch; b++) {
      const dS = this.scores(bufs.dprobs, b);
      this.bgemm('nn', t, d, t, dS, this.head(bufs.qkv, b, K_), this.head(bufs.dqkv, b, Q)); // dq = dS·k
      this.bgemm('tn', t, d, t, dS, this.head(bufs.qkv, b, Q), this.head(bufs.dqkv, b, K_)); // dk = dSᵀ·q
    }
    // baddbmm's backward multiplies by alpha after the product (a separate rounding in fp16).
    this.scaleQk(bufs.dqkv, rows);
    this.rotate(bufs.dqkv, rows, t, true);
    this.qkv.backward(x, bufs.dqkv, rows, dx, accumulateDx);
  }

  private rotate(qkv: FloatBuf, rows: number, seq: number, inverse: boolean): void {
    if (this.s.rotDims === 0) return;
    const d = this.headDim;
    const common = { rows, seq, heads: this.s.heads, headStride: 3 * d, ld: 3 * this.s.hidden, rotDims: this.s.rotDims, cos: this.cos, sin: this.sin, inverse };
    this.K.rotary({ ...common, x: qkv.subarray(Q * d) });
    this.K.rotary({ ...common, x: qkv.subarray(K_ * d) });
  }

  /** dq and dk of every head times 1/√d (they are adjacent in the QKV layout: 2d values per head). */
  private scaleQk(dqkv: FloatBuf, rows: number): void {
    const d = this.headDim;
    for (let r = 0; r < rows; r++) {
      for (let h = 0; h < this.s.heads; h++) {
        const x = dqkv.subarray((r * this.s.heads + h) * 3 * d);
        this.K.scale({ n: 2 * d, x, alpha: this.scale, y: x });
      }
    }
  }

  /** q, k or v of all heads of sequence b in a QKV-layout buffer: rows 3h apart, heads 3d apart. */
  private head(buf: FloatBuf, b: number, which: number): HeadView {
    const h = this.s.hidden;
    return { buf: buf.subarray(b * this.seq * 3 * h + which * this.headDim), ld: 3 * h, stride: 3 * this.headDim };
  }

  /** The context of sequence b in [seq, hidden] layout: heads d apart. */
  private ctx(buf: FloatBuf, b: number): HeadView {
    const h = this.s.hidden;
    return { buf: buf.subarray(b * this.seq * h), ld: h, stride: this.headDim };
  }

  /** The [heads, seq, seq] score (or probability) matrices of sequence b. */
  private scores(buf: FloatBuf, b: number): HeadView {
    const t = this.seq;
    return { buf: buf.subarray(b * this.s.heads * t * t), ld: t, stride: t * t };
  }

  /** One GEMM batched over the heads. */
  private bgemm(op: 'nn' | 'nt' | 'tn', m: number, n: number, k: number, A: HeadView, B: HeadView, C: HeadView, alpha = 1): void {
    this.K.gemm({
      op, m, n, k, alpha, a: A.buf, lda: A.ld, b: B.buf, ldb: B.ld, c: C.buf, ldc: C.ld,
      batch: this.s.heads, strideA: A.stride, strideB: B.stride, strideC: C.stride,
    });
  }
}

/** Positions of q, k and v inside one head's 3·d block of the fused QKV output. */
const Q = 0;
const K_ = 1;
const V = 2;

interface HeadView {
  buf: FloatBuf;
  ld: number;
  stride: number;
}
