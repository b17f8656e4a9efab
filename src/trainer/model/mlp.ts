import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import { Linear } from './linear.js';
import type { Param } from './params.js';

/**
 * h → 4h, GELU, 4h → h. As gpt-neox with bias_gelu_fusion: dense_h_to_4h skips its bias add and the
 * fused bias_gelu computes gelu(x·W1ᵀ + b1) in one kernel; dense_4h_to_h adds its bias after the product.
 */
export class Mlp {
  readonly up: Linear;
  readonly down: Linear;
  private rows = 0;
  private pre!: FloatBuf;
  private act!: FloatBuf;
  private dAct!: FloatBuf;

  constructor(private readonly K: Kernels, hidden: number, ffn: number, private readonly kind: 'tanh' | 'erf', p: (name: string) => Param) {
    this.up = new Linear(K, p('dense_h_to_4h.weight'), p('dense_h_to_4h.bias'), hidden, ffn, 'none');
    this.down = new Linear(K, p('dense_4h_to_h.weight'), p('dense_4h_to_h.bias'), ffn, hidden, 'after');
  }

  forward(x: FloatBuf, rows: number, y: FloatBuf): void {
    if (rows !== this.rows) {
      const n = rows * this.up.outFeatures;
      [this.pre, this.act, this.dAct] = [this.K.alloc(n), this.K.alloc(n), this.K.alloc(n)];
      this.rows = rows;
    }
    this.up.forward(x, rows, this.pre);
    this.K.gelu({ rows, cols: this.up.outFeatures, x: this.pre, bias: this.up.bias!.data, y: this.act, kind: this.kind });
    this.down.forward(this.act, rows, y);
  }

  backward(x: FloatBuf, dy: FloatBuf, dx: FloatBuf, accumulateDx: boolean): void {
    const { K, rows } = this;
    const cols = this.up.outFeatures;
    this.down.backward(this.act, dy, rows, this.dAct);
    K.geluBackward({ rows, cols, x: this.pre, bias: this.up.bias!.data, dy: this.dAct, dx: this.dAct, kind: this.kind });
    K.biasGrad({ rows, cols, dy: this.dAct, db: this.up.bias!.grad });
    this.up.backward(x, this.dAct, rows, dx, accumulateDx);
  }
}
