import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import type { Param } from './params.js';

/** torch.nn.LayerNorm(h, eps) with its weight and bias; keeps its input and row statistics for backward. */
export class LayerNorm {
  private x: FloatBuf | undefined;
  private mean: FloatBuf;
  private rstd: FloatBuf;

  constructor(private readonly K: Kernels, readonly weight: Param, readonly bias: Param, readonly n: number, readonly eps: number) {
    this.mean = K.alloc(0);
    this.rstd = K.alloc(0);
  }

  forward(x: FloatBuf, rows: number, y: FloatBuf): void {
    if (this.mean.length !== rows) {
      this.mean = this.K.alloc(rows);
      this.rstd = this.K.alloc(rows);
    }
    this.x = x;
    const { n, eps } = this;
    this.K.layerNorm({ rows, n, x, gamma: this.weight.data, beta: this.bias.data, eps, y, mean: this.mean, rstd: this.rstd });
  }

  /** dx = ∂L/∂x (or dx += it with accumulate); weight and bias grads accumulate. */
  backward(dy: FloatBuf, rows: number, dx: FloatBuf, accumulate: boolean): void {
    this.K.layerNormBackward({
      rows, n: this.n, x: this.x!, gamma: this.weight.data, mean: this.mean, rstd: this.rstd,
      dy, dx, dgamma: this.weight.grad, dbeta: this.bias.grad, accumulateDx: accumulate,
    });
  }
}
