import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import type { Param } from './params.js';

/**
 * Where a linear layer's bias is added, which decides the fp16 rounding points (docs/numerics.md):
 * 'gemm' — inside the product before its one storage rounding (F.linear with bias: the fused QKV);
 * 'after' — a separate add after the product is stored (gpt-neox's skip_bias_add + bias_dropout_add:
 * attention.dense and dense_4h_to_h); 'none' — no bias here (dense_h_to_4h's bias goes into bias_gelu).
 */
export type BiasPlacement = 'gemm' | 'after' | 'none';

/** y = x·Wᵀ (+ b), W stored [out, in] as in HF. */
export class Linear {
  constructor(
    private readonly K: Kernels,
    readonly weight: Param,
    readonly bias: Param | undefined,
    readonly inFeatures: number,
    readonly outFeatures: number,
    private readonly placement: BiasPlacement,
  ) {}

  forward(x: FloatBuf, rows: number, y: FloatBuf): void {
    const { K, inFeatures: k, outFeatures: n } = this;
    const bias = this.placement === 'gemm' ? this.bias?.data : undefined;
    K.gemm({ op: 'nt', m: rows, n, k, a: x, lda: k, b: this.weight.data, ldb: k, c: y, ldc: n, bias });
    if (this.placement === 'after' && this.bias) K.addBias({ rows, cols: n, y, bias: this.bias.data });
  }

  /** dx = dy·W (into, or added to, dx when given); dW += dyᵀ·x; db += Σ_rows dy (unless placement 'none'). */
  backward(x: FloatBuf, dy: FloatBuf, rows: number, dx: FloatBuf | undefined, accumulateDx = false): void {
    const { K, inFeatures: k, outFeatures: n } = this;
    if (dx) K.gemm({ op: 'nn', m: rows, n: k, k: n, a: dy, lda: n, b: this.weight.data, ldb: k, c: dx, ldc: k, accumulate: accumulateDx });
    K.gemm({ op: 'tn', m: n, n: k, k: rows, a: dy, lda: n, b: x, ldb: k, c: this.weight.grad, ldc: k, accumulate: true });
    if (this.placement !== 'none' && this.bias) K.biasGrad({ rows, cols: n, dy, db: this.bias.grad });
  }
}
