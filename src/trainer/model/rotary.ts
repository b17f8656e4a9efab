import { f16round } from '../../backends/f16.js';
import type { FloatBuf, Kernels } from '../../backends/kernels.js';

/**
 * cos/sin tables [positions, rotDims/2] of GPT-NeoX rotary embeddings: inv_freq_j = 1/base^(2j/rotDims),
 * angle = t·inv_freq_j (HF/gpt-neox duplicate the half with cat(freqs, freqs); the kernel uses each
 * value for dims j and j + rotDims/2). Built in the model's precision, as the run built them:
 * f64 — all float64 (HF builds them in float32 even for fp64 models; a float64 reference should not);
 * f32 — every op in float32 (HF); f16 — the 2022 training code's fp16 tables: the float32 inv_freq buffer
 * cast to fp16 with the module, positions in fp16, each product and each cos/sin rounded to binary16.
 */
export function rotaryTables(K: Kernels, positions: number, rotDims: number, base: number): { cos: FloatBuf; sin: FloatBuf } {
  const half = rotDims / 2;
  const r = K.dtype === 'f64' ? (x: number) => x : Math.fround;
  const st = K.dtype === 'f16' ? f16round : r;
  const cos = K.alloc(positions * half);
  const sin = K.alloc(positions * half);
  for (let j = 0; j < half; j++) {
    const invFreq = st(r(1 / r(Math.pow(base, r(r(2 * j) / rotDims)))));
    for (let t = 0; t < positions; t++) {
      const angle = st(r(t * invFreq));
      cos[t * half + j] = st(r(Math.cos(angle)));
      sin[t * half + j] = st(r(Math.sin(angle)));
    }
  }
  return { cos, sin };
}
