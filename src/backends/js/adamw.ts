import type { Kernels } from '../kernels.js';
import type { Rounding } from './rounding.js';

type AdamWArgs = Parameters<Kernels['adamw']>[0];

/** FusedAdam ADAM_MODE_1 (DeeperSpeed csrc/adam/multi_tensor_adam.cu), each op rounded in the order written. */
export function adamw(R: Rounding, a: AdamWArgs): void {
  const { r, st } = R;
  const b1 = r(a.beta1);
  const b2 = r(a.beta2);
  const oneMinusB1 = r(1 - b1);
  const oneMinusB2 = r(1 - b2);
  // The CUDA host code evaluates 1 − pow(β, step) in double and passes it as float.
  const bc1 = r(1 - Math.pow(b1, a.step));
  const bc2 = r(1 - Math.pow(b2, a.step));
  const eps = r(a.eps);
  const wd = r(a.weightDecay);
  const lr = r(a.lr);
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
