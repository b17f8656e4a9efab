import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import type { NeoXConfig } from '../../model/config.js';
import { rotaryDims } from '../../model/config.js';
import { Attention } from './attention.js';
import { LayerNorm } from './layernorm.js';
import { Mlp } from './mlp.js';
import type { ParamStore } from './params.js';

/**
 * One NeoX layer. Parallel residual (gpt_j_residual, the 20B run): out = x + (attn(ln1(x)) + mlp(ln2(x))),
 * the two branch outputs added first, then the residual (gpt-neox's bias_dropout_add order).
 * Sequential residual (parallelResidual: false): h = x + attn(ln1(x)); out = h + mlp(ln2(h)).
 */
export class TransformerLayer {
  readonly ln1: LayerNorm;
  readonly ln2: LayerNorm;
  readonly attention: Attention;
  readonly mlp: Mlp;
  private readonly parallel: boolean;
  private rows = 0;
  private b!: Record<'ln1' | 'ln2' | 'attn' | 'mlp' | 'mid' | 'dln' | 'dmid', FloatBuf>;

  constructor(private readonly K: Kernels, cfg: NeoXConfig, params: ParamStore, index: number) {
    const p = (name: string) => params.get(`gpt_neox.layers.${index}.${name}`);
    const h = cfg.hiddenSize;
    this.ln1 = new LayerNorm(K, p('input_layernorm.weight'), p('input_layernorm.bias'), h, cfg.layernormEpsilon);
    this.ln2 = new LayerNorm(K, p('post_attention_layernorm.weight'), p('post_attention_layernorm.bias'), h, cfg.layernormEpsilon);
    this.attention = new Attention(K, {
      hidden: h, heads: cfg.numHeads, rotDims: rotaryDims(cfg), maxPositions: cfg.maxPositionEmbeddings, rotaryBase: cfg.rotaryEmbBase,
    }, (name) => p(`attention.${name}`));
    this.mlp = new Mlp(K, h, cfg.ffnHiddenSize, cfg.activation === 'gelu-tanh' ? 'tanh' : 'erf', (name) => p(`mlp.${name}`));
    this.parallel = cfg.parallelResidual;
  }

  forward(x: FloatBuf, batch: number, seq: number, out: FloatBuf): void {
    const { K } = this;
    const rows = batch * seq;
    const n = rows * this.ln1.n;
    if (rows !== this.rows) {
      this.b = { ln1: K.alloc(n), ln2: K.alloc(n), attn: K.alloc(n), mlp: K.alloc(n), mid: K.alloc(n), dln: K.alloc(n), dmid: K.alloc(n) };
      this.rows = rows;
    }
    const b = this.b;
    this.ln1.forward(x, rows, b.ln1);
    this.attention.forward(b.ln1, batch, seq, b.attn);
    if (this.parallel) {
      this.ln2.forward(x, rows, b.ln2);
      this.mlp.forward(b.ln2, rows, b.mlp);
      K.add({ n, a: b.attn, b: b.mlp, y: b.mid });
      K.add({ n, a: x, b: b.mid, y: out });
    } else {
      K.add({ n, a: x, b: b.attn, y: b.mid });
      this.ln2.forward(b.mid, rows, b.ln2);
      this.mlp.forward(b.ln2, rows, b.mlp);
      K.add({ n, a: b.mid, b: b.mlp, y: out });
    }
  }

  /**
   * dx = ∂L/∂x from dOut. The residual's gradient arrives first, then each branch's is added in the
   * order autograd reaches them (the later-built MLP branch first), each add rounded.
   */
  backward(dOut: FloatBuf, dx: FloatBuf): void {
    const { K, b, rows } = this;
    const n = rows * this.ln1.n;
    if (this.parallel) {
      K.copy({ n, x: dOut, y: dx });
      this.mlp.backward(b.ln2, dOut, b.dln, false);
      this.ln2.backward(b.dln, rows, dx, true);
      this.attention.backward(b.ln1, dOut, b.dln, false);
      this.ln1.backward(b.dln, rows, dx, true);
    } else {
      K.copy({ n, x: dOut, y: b.dmid });
      this.mlp.backward(b.ln2, dOut, b.dln, false);
      this.ln2.backward(b.dln, rows, b.dmid, true);
      K.copy({ n, x: b.dmid, y: dx });
      this.attention.backward(b.ln1, b.dmid, b.dln, false);
      this.ln1.backward(b.dln, rows, dx, true);
    }
  }
}
