import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import { LayerNorm } from './layernorm.js';
import { Linear } from './linear.js';
import type { ParamStore } from './params.js';

/**
 * Final LayerNorm, the untied output projection embed_out (no bias) over the padded vocabulary, and the
 * mean cross entropy of next-token labels. The loss runs on `lossK` (float32 in fp16 mode: gpt-neox
 * casts the fp16 logits with .float() before vocab_parallel_cross_entropy); its logit gradients are
 * stored back through the model backend (the cast's backward rounds them to fp16).
 */
export class OutputHead {
  readonly norm: LayerNorm;
  readonly proj: Linear;
  private rows = 0;
  private normed!: FloatBuf;
  logits!: FloatBuf;
  private losses!: FloatBuf;
  private dlogitsLoss!: FloatBuf;
  private dlogits!: FloatBuf;
  private dnormed!: FloatBuf;
  private targets!: Int32Array;

  constructor(private readonly K: Kernels, private readonly lossK: Kernels, params: ParamStore, readonly hidden: number, readonly vocab: number, eps: number) {
    this.norm = new LayerNorm(K, params.get('gpt_neox.final_layer_norm.weight'), params.get('gpt_neox.final_layer_norm.bias'), hidden, eps);
    this.proj = new Linear(K, params.get('embed_out.weight'), undefined, hidden, vocab, 'none');
  }

  /** Returns the mean loss over rows (f64 sum of the per-row losses / rows). */
  forward(x: FloatBuf, targets: Int32Array, rows: number): number {
    const { K, lossK } = this;
    if (rows !== this.rows) {
      this.normed = K.alloc(rows * this.hidden);
      this.dnormed = K.alloc(rows * this.hidden);
      this.logits = K.alloc(rows * this.vocab);
      this.dlogits = K.alloc(rows * this.vocab);
      this.dlogitsLoss = lossK === K ? this.dlogits : lossK.alloc(rows * this.vocab);
      this.losses = lossK.alloc(rows);
      this.rows = rows;
    }
    this.targets = targets;
    this.norm.forward(x, rows, this.normed);
    this.proj.forward(this.normed, rows, this.logits);
    lossK.crossEntropy({ rows, v: this.vocab, logits: this.logits, targets, losses: this.losses });
    return lossK.sum({ n: rows, x: this.losses }) / rows;
  }

  /** dx = ∂(gradScale·Σ losses)/∂x, i.e. gradScale is the seed gradient of each row's loss. */
  backward(gradScale: number, dx: FloatBuf): void {
    const { K, lossK, rows } = this;
    const n = rows * this.vocab;
    lossK.crossEntropyBackward({ rows, v: this.vocab, logits: this.logits, targets: this.targets, gradScale, dlogits: this.dlogitsLoss });
    if (this.dlogitsLoss !== this.dlogits) K.copy({ n, x: this.dlogitsLoss, y: this.dlogits });
    this.proj.backward(this.normed, this.dlogits, rows, this.dnormed);
    this.norm.backward(this.dnormed, rows, dx, false);
  }
}
