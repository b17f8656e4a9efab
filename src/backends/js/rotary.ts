import type { Kernels } from '../kernels.js';
import type { Rounding } from './rounding.js';

type RotaryArgs = Parameters<Kernels['rotary']>[0];

/** Half rotation of dims (j, j + rotDims/2) of each head, in place; `inverse` applies Rᵀ (the backward). */
export function rotary(R: Rounding, a: RotaryArgs): void {
  const { r, st } = R;
  const { rows, seq, heads, headStride, ld, x, cos, sin } = a;
  const half = a.rotDims / 2;
  const sign = a.inverse ? -1 : 1;
  for (let row = 0; row < rows; row++) {
    const t = (row % seq) * half;
    for (let h = 0; h < heads; h++) {
      const o = row * ld + h * headStride;
      for (let j = 0; j < half; j++) {
        const c = cos[t + j]!;
        const s = sign * sin[t + j]!;
        const x1 = x[o + j]!;
        const x2 = x[o + j + half]!;
        x[o + j] = st(r(r(x1 * c) - r(x2 * s)));
        x[o + j + half] = st(r(r(x2 * c) + r(x1 * s)));
      }
    }
  }
}
