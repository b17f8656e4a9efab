import type { Kernels } from '../kernels.js';
import type { Rounding } from './rounding.js';

type AdamWArgs = Parameters<Kernels['adamw']>[0];

/** The update's scalars rounded to compute precision: one definition for every backend. */
export function adamwConstants(r: (x: number) => number, a: AdamWArgs) {
  const b1 = r(a.beta1);
  const b2 = r(a.beta2);
  return {
    b1, b2, oneMinusB1: r(1 - b1), oneMinusB2: r(1 - b2),
    // The CUDA host code evaluates 1 − pow(β, step) in double and passes it as float.
    bc1: r(1 - Math.pow(b1, a.step)), bc2: r(1 - Math.pow(b2, a.step)),
    eps: r(a.eps), wd: r(a.weightDecay), lr: r(a.lr),
  };
}

/** FusedAdam ADAM_MODE_1 (DeeperSpeed csrc/adam/multi_tensor_adam.cu), each op rounded in the order written. */
export function adamw(R: Rounding, a: AdamWArgs): void {
  const { r, st } = R;
  const { b1, b2, oneMinusB1, oneMinusB2, bc1, bc2, eps, wd, lr } = adamwConstants(r, a);
  const { n, p, g, m, v } = a;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = r(r(b1 * m[i]!) + r(oneMinusB1 * gi));
    const vi = r(r(b2 * v[i]!) + r(r(oneMinusB2 * gi) * gi));
    const denom = r(r(Math.sqrt(r(vi / bc2))) + eps);
    const update = r(r(r(mi / bc1) / denom) + r(wd * p[i]!));
    m[i] = st(mi);
    v[i] = st(vi);
    p[i] = st(r(p[i]! - r(lr * update)));
  }
}
