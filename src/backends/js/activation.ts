import type { FloatBuf, GeluKind } from '../kernels.js';
import { erf } from './math.js';
import type { Rounding } from './rounding.js';

/** gpt-neox bias_gelu (megatron/model/activations.py @c560814b): tanh form with these two constants. */
export const GELU_TANH_K = 0.79788456;
export const GELU_TANH_C = 0.044715;
/** 1/√(2π) = M_2_SQRTPI · M_SQRT1_2 · 0.5, as PyTorch's GeluBackward (erf form) writes it. */
const INV_SQRT_2PI = (2 / Math.sqrt(Math.PI)) * Math.SQRT1_2 * 0.5;

/** The GELU constants rounded to compute precision: one definition for every backend, so all use the same values. */
export function geluConstants(r: (x: number) => number) {
  return { k: r(GELU_TANH_K), c: r(GELU_TANH_C), k3c: r(GELU_TANH_K * 3 * GELU_TANH_C), sqrtHalf: r(Math.SQRT1_2), invSqrt2Pi: r(INV_SQRT_2PI) };
}

interface GeluArgs { rows: number; cols: number; x: FloatBuf; bias?: FloatBuf; y: FloatBuf; kind: GeluKind }
interface GeluBackwardArgs { rows: number; cols: number; x: FloatBuf; bias?: FloatBuf; dy: FloatBuf; dx: FloatBuf; kind: GeluKind }

/** y = gelu(x + bias) with every op rounded to compute precision in the order written. */
export function gelu(R: Rounding, a: GeluArgs): void {
  const { r, st } = R;
  const { k, c, sqrtHalf } = geluConstants(r);
  const { rows, cols, x, bias, y } = a;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const o = i * cols + j;
      const u = bias ? r(x[o]! + bias[j]!) : x[o]!;
      const half = r(u * 0.5);
      let w: number;
      if (a.kind === 'tanh') {
        const inner = r(r(k * u) * r(1 + r(r(c * u) * u)));
        w = r(1 + r(Math.tanh(inner)));
      } else {
        w = r(1 + r(erf(r(u * sqrtHalf))));
      }
      y[o] = st(r(half * w));
    }
  }
}

/**
 * dx = dy·gelu'(u), u = x + bias. The tanh form differentiates the forward exactly:
 * gelu' = 0.5·(1 + th) + (0.5·u)·(1 − th²)·(k + (3kc·u)·u), th = tanh(k·u·(1 + c·u²)), 3kc = k·3·c.
 * (gpt-neox's bias_gelu_back writes 0.1070322243 = √(2/π)·3c for 3kc, 5e-8 off the forward's own
 * derivative; we keep the exact one so gradients are the gradients of the computed loss.)
 * The erf form: gelu' = 0.5·(1 + erf(u/√2)) + u·exp(−0.5·u·u)/√(2π).
 */
export function geluBackward(R: Rounding, a: GeluBackwardArgs): void {
  const { r, st } = R;
  const { k, c, k3c, sqrtHalf, invSqrt2Pi } = geluConstants(r);
  const { rows, cols, x, bias, dy, dx } = a;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const o = i * cols + j;
      const u = bias ? r(x[o]! + bias[j]!) : x[o]!;
      let d: number;
      if (a.kind === 'tanh') {
        const th = r(Math.tanh(r(r(k * u) * r(1 + r(r(c * u) * u)))));
        const left = r(0.5 * r(1 + th));
        const sech2 = r(1 - r(th * th));
        const slope = r(k + r(r(k3c * u) * u));
        d = r(left + r(r(r(0.5 * u) * sech2) * slope));
      } else {
        const cdf = r(0.5 * r(1 + r(erf(r(u * sqrtHalf)))));
        const pdf = r(r(Math.exp(r(r(-0.5 * u) * u))) * invSqrt2Pi);
        d = r(cdf + r(u * pdf));
      }
      dx[o] = st(r(dy[o]! * d));
    }
  }
}
