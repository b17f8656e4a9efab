import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import type { NeoXConfig } from '../../model/config.js';
import { paddedVocabSize } from '../../model/config.js';
import { validateTrainerConfig } from '../validate.js';
import { Embedding } from './embedding.js';
import { OutputHead } from './head.js';
import { neoxParamSpecs, ParamStore } from './params.js';
import { TransformerLayer } from './transformer-layer.js';

/**
 * The GPT-NeoX model: embed_in → layers → final LayerNorm → embed_out → mean cross entropy.
 * `K` computes the model (f64, f32 or binary16 storage); `lossK` computes the loss (the same backend,
 * or f32 in fp16 mode). forward keeps what backward needs; backward accumulates into the param grads.
 */
export class NeoXModel {
  readonly params: ParamStore;
  readonly embedding: Embedding;
  readonly layers: TransformerLayer[];
  readonly head: OutputHead;
  private batch = 0;
  private seq = 0;
  private ids!: Int32Array;
  private hidden: FloatBuf[] = [];
  private grads: [FloatBuf, FloatBuf] | undefined;

  constructor(readonly cfg: NeoXConfig, readonly K: Kernels, readonly lossK: Kernels = K) {
    validateTrainerConfig(cfg);
    this.params = new ParamStore(K, neoxParamSpecs(cfg));
    const h = cfg.hiddenSize;
    this.embedding = new Embedding(K, this.params.get('gpt_neox.embed_in.weight'), h);
    this.layers = Array.from({ length: cfg.numLayers }, (_, i) => new TransformerLayer(K, cfg, this.params, i));
    this.head = new OutputHead(K, lossK, this.params, h, paddedVocabSize(cfg), cfg.layernormEpsilon);
  }

  /** The logits [batch·seq, padded vocab] of the last forward. */
  get logits(): FloatBuf {
    return this.head.logits;
  }

  /**
   * Mean next-token cross entropy of `ids` [batch, seq] against `targets` [batch, seq] (both from
   * `K.allocIds`, already validated). Returns the loss; keeps the activations for `backward`.
   */
  forward(ids: Int32Array, targets: Int32Array, batch: number, seq: number): number {
    const rows = batch * seq;
    if (batch !== this.batch || seq !== this.seq) {
      const n = rows * this.cfg.hiddenSize;
      this.hidden = Array.from({ length: this.cfg.numLayers + 1 }, () => this.K.alloc(n));
      this.grads = [this.K.alloc(n), this.K.alloc(n)];
      [this.batch, this.seq] = [batch, seq];
    }
    this.ids = ids;
    this.embedding.forward(ids, rows, this.hidden[0]!);
    this.layers.forEach((layer, i) => layer.forward(this.hidden[i]!, batch, seq, this.hidden[i + 1]!));
    return this.head.forward(this.hidden[this.cfg.numLayers]!, targets, rows);
  }

  /** Adds ∂(gradScale · Σ_rows loss_row)/∂θ to every parameter's grad. */
  backward(gradScale: number): void {
    const rows = this.batch * this.seq;
    let [dy, dx] = this.grads!;
    this.head.backward(gradScale, dy);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      this.layers[i]!.backward(dy, dx);
      [dy, dx] = [dx, dy];
    }
    this.embedding.backward(this.ids, rows, dy);
  }

  zeroGrads(): void {
    for (const p of this.params.list) this.K.fill({ n: p.size, y: p.grad, value: 0 });
  }
}
