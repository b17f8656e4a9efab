import type { AttentionArgs, AttentionVariant, FloatBuf, Kernels } from '../../backends/kernels.js';
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
 * block [3·d·i, 3·d·(i+1)) of W_qkv is q, k, v of head i), rotary on the first rotDims of q and k, then the
 * attention kernel (scores = (q·kᵀ)/√d, causal softmax, context = probs·v) on the QKV rows in place, then
 * the output dense.
 */
export class Attention {
  readonly qkv: Linear;
  readonly dense: Linear;
  private readonly headDim: number;
  private readonly scale: number;
  private readonly cos: FloatBuf;
  private readonly sin: FloatBuf;
  private variant: AttentionVariant = 'materialized';
  private batch = 0;
  private seq = 0;
  private bufs!: { qkv: FloatBuf; saved: FloatBuf; ctx: FloatBuf; dqkv: FloatBuf; dctx: FloatBuf };

  constructor(private readonly K: Kernels, private readonly s: AttentionShape, p: (name: string) => Param) {
    const h = s.hidden;
    this.qkv = new Linear(K, p('query_key_value.weight'), p('query_key_value.bias'), h, 3 * h, 'gemm');
    this.dense = new Linear(K, p('dense.weight'), p('dense.bias'), h, h, 'after');
    this.headDim = h / s.heads;
    this.scale = 1 / Math.sqrt(this.headDim);
    ({ cos: this.cos, sin: this.sin } = rotaryTables(K, s.maxPositions, s.rotDims, s.rotaryBase));
  }

  /** The attention kernel variant, one of the backend's `attentionVariants`; used from the next forward on. */
  useVariant(variant: AttentionVariant): void {
    if (!this.K.attentionVariants.includes(variant)) throw new RangeError(`the ${this.K.name} backend has no ${variant} attention`);
    this.variant = variant;
    this.batch = 0; // the saved buffer's size depends on the variant
  }

  private resize(batch: number, seq: number): void {
    if (batch === this.batch && seq === this.seq) return;
    const { K } = this;
    const rows = batch * seq;
    const h = this.s.hidden;
    const saved = K.attentionSavedSize({ batch, seq, heads: this.s.heads, headDim: this.headDim, variant: this.variant });
    this.bufs = { qkv: K.alloc(rows * 3 * h), saved: K.alloc(saved), ctx: K.alloc(rows * h), dqkv: K.alloc(rows * 3 * h), dctx: K.alloc(rows * h) };
    this.batch = batch;
    this.seq = seq;
  }

  private args(): AttentionArgs {
    const { bufs } = this;
    return { batch: this.batch, seq: this.seq, heads: this.s.heads, headDim: this.headDim, scale: this.scale, variant: this.variant,
      qkv: bufs.qkv, ctx: bufs.ctx, saved: bufs.saved };
  }

  /** y = attention(x) for x [batch·seq, hidden]. */
  forward(x: FloatBuf, batch: number, seq: number, y: FloatBuf): void {
    this.resize(batch, seq);
    const rows = batch * seq;
    this.qkv.forward(x, rows, this.bufs.qkv);
    this.rotate(this.bufs.qkv, rows, seq, false);
    this.K.attention(this.args());
    this.dense.forward(this.bufs.ctx, rows, y);
  }

  /** dx (+)= ∂L/∂x given dy = ∂L/∂y for the last forward; parameter grads accumulate. */
  backward(x: FloatBuf, dy: FloatBuf, dx: FloatBuf, accumulateDx: boolean): void {
    const { bufs } = this;
    const rows = this.batch * this.seq;
    this.dense.backward(bufs.ctx, dy, rows, bufs.dctx);
    this.K.attentionBackward({ ...this.args(), dctx: bufs.dctx, dqkv: bufs.dqkv });
    this.rotate(bufs.dqkv, rows, this.seq, true);
    this.qkv.backward(x, bufs.dqkv, rows, dx, accumulateDx);
  }

  private rotate(qkv: FloatBuf, rows: number, seq: number, inverse: boolean): void {
    if (this.s.rotDims === 0) return;
    const d = this.headDim;
    const common = { rows, seq, heads: this.s.heads, headStride: 3 * d, ld: 3 * this.s.hidden, rotDims: this.s.rotDims, cos: this.cos, sin: this.sin, inverse };
    this.K.rotary({ ...common, x: qkv.subarray(0) });
    this.K.rotary({ ...common, x: qkv.subarray(d) });
  }
}
