import type { Kernels } from '../../backends/kernels.js';
import { Rng } from '../rng.js';
import type { ParamStore } from './params.js';

/**
 * Fills every parameter by its init rule: N(0, σ) draws from stream i of `Rng(seed, i)` for the i-th
 * tensor in state-dict order, in row-major element order, computed in float64 and then stored through
 * the model backend's `copy` (so fp32/fp16 models hold the rounded draws — gpt-neox creates fp16
 * weights and fills them in place). Constants (LayerNorm 1, biases 0) are exact.
 */
export function initParams(K: Kernels, params: ParamStore, seed: number): void {
  params.list.forEach((p, index) => {
    const values = new Float64Array(p.size);
    if (p.init.kind === 'const') values.fill(p.init.value);
    else {
      const rng = new Rng(seed, index);
      for (let i = 0; i < p.size; i++) values[i] = p.init.std * rng.normal();
    }
    copyIn(K, values, p.data);
  });
}

/**
 * Stores float64 values into a backend buffer with one rounding to its storage precision. For binary16
 * that is a direct f64 → f16 rounding: going through float32 first would round twice (numerics-and-data.md §1).
 */
export function copyIn(K: Kernels, values: Float64Array | Float32Array, dst: Float64Array | Float32Array): void {
  if (K.dtype === 'f16') K.roundF16({ n: values.length, x: values, y: dst });
  else K.copy({ n: values.length, x: values, y: dst });
}
