import type { Kernels } from '../kernels.js';
import type { Rounding } from './rounding.js';

type LayerNormArgs = Parameters<Kernels['layerNorm']>[0];
type LayerNormBackwardArgs = Parameters<Kernels['layerNormBackward']>[0];

/** LayerNorm forward in the reference order of kernels.ts (two-pass mean and variance). */
export function layerNorm(R: Rounding, a: LayerNormArgs): void {
  const { r, st } = R;
  const { rows, n, x, gamma, beta, y, mean, rstd } = a;
  const eps = r(a.eps);
  for (let i = 0; i < rows; i++) {
    const o = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s = r(s + x[o + j]!);
    const mu = r(s / n);
    let q = 0;
    for (let j = 0; j < n; j++) {
      const d = r(x[o + j]! - mu);
      q = r(q + r(d * d));
    }
    const rs = r(1 / r(Math.sqrt(r(r(q / n) + eps))));
    mean[i] = mu;
    rstd[i] = rs;
    for (let j = 0; j < n; j++) {
      const xh = r(r(x[o + j]! - mu) * rs);
      y[o + j] = st(r(r(xh * gamma[j]!) + beta[j]!));
    }
  }
}

/** LayerNorm backward in the reference order of kernels.ts. */
export function layerNormBackward(R: Rounding, a: LayerNormBackwardArgs): void {
  const { r, st } = R;
  const { rows, n, x, gamma, mean, rstd, dy, dx, dgamma, dbeta } = a;
  const dgAcc = new R.Scratch(n);
  const dbAcc = new R.Scratch(n);
  const xh = new R.Scratch(n);
  const g = new R.Scratch(n);
  for (let i = 0; i < rows; i++) {
    const o = i * n;
    const mu = mean[i]!;
    const rs = rstd[i]!;
    let A = 0;
    let B = 0;
    for (let j = 0; j < n; j++) {
      xh[j] = r(r(x[o + j]! - mu) * rs);
      g[j] = r(dy[o + j]! * gamma[j]!);
      A = r(A + g[j]!);
      B = r(B + r(g[j]! * xh[j]!));
      dgAcc[j] = dgAcc[j]! + r(dy[o + j]! * xh[j]!);
      dbAcc[j] = dbAcc[j]! + dy[o + j]!;
    }
    const mA = r(A / n);
    const mB = r(B / n);
    for (let j = 0; j < n; j++) {
      const v = st(r(r(r(g[j]! - mA) - r(xh[j]! * mB)) * rs));
      dx[o + j] = a.accumulateDx ? st(r(dx[o + j]! + v)) : v;
    }
  }
  for (let j = 0; j < n; j++) {
    dgamma[j] = st(r(dgamma[j]! + st(dgAcc[j]!)));
    dbeta[j] = st(r(dbeta[j]! + st(dbAcc[j]!)));
  }
}
