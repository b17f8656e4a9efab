import type { DType, Kernels } from '../kernels.js';
import { adamw } from './adamw.js';
import { attention, attentionBackward, attentionSavedSize } from './attention.js';
import { gelu, geluBackward } from './activation.js';
import { add, addBias, biasGrad, copy, fill, roundF16, scale, sum, sumSquares } from './elementwise.js';
import { embedding, embeddingBackward } from './embedding.js';
import { gemm } from './gemm.js';
import { layerNorm, layerNormBackward } from './norm.js';
import { rotary } from './rotary.js';
import { roundingFor } from './rounding.js';
import { causalSoftmax, causalSoftmaxBackward, crossEntropy, crossEntropyBackward } from './softmax.js';

/** The reference backend: plain TypeScript, single-threaded, bit-exact to the reference order of every kernel. */
export function createJsKernels(dtype: DType): Kernels {
  const R = roundingFor(dtype);
  const Arr = dtype === 'f64' ? Float64Array : Float32Array;
  return {
    name: `js-${dtype}`,
    dtype,
    exact: true,
    alloc: (n) => new Arr(n),
    allocIds: (n) => new Int32Array(n),
    gemm: (g) => gemm(R, g),
    layerNorm: (a) => layerNorm(R, a),
    layerNormBackward: (a) => layerNormBackward(R, a),
    gelu: (a) => gelu(R, a),
    geluBackward: (a) => geluBackward(R, a),
    addBias: (a) => addBias(R, a),
    biasGrad: (a) => biasGrad(R, a),
    add: (a) => add(R, a),
    scale: (a) => scale(R, a),
    copy: (a) => copy(R, a),
    roundF16,
    fill,
    rotary: (a) => rotary(R, a),
    causalSoftmax: (a) => causalSoftmax(R, a),
    causalSoftmaxBackward: (a) => causalSoftmaxBackward(R, a),
    crossEntropy: (a) => crossEntropy(R, a),
    crossEntropyBackward: (a) => crossEntropyBackward(R, a),
    embedding: (a) => embedding(R, a),
    embeddingBackward: (a) => embeddingBackward(R, a),
    adamw: (a) => adamw(R, a),
    attentionVariants: ['materialized'],
    attentionSavedSize,
    attention: (a) => attention(R, a),
    attentionBackward: (a) => attentionBackward(R, a),
    sum,
    sumSquares,
  };
}
