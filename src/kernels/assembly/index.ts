// Entry point of the kernel module: everything exported here is callable from JavaScript.
import { madd } from './simd';

export { setupThread, scratchBytes, setScratch } from './tasks';
export { gemm } from './gemm';
export { add, scale, copy, addBias, biasGrad, sumBlocks, roundF16Blocks } from './elementwise';
export { layerNormForward, layerNormBackwardDx, layerNormBackwardParams } from './layernorm';
export { geluForward, geluBackward } from './gelu';
export { causalSoftmaxForward, causalSoftmaxBackward, crossEntropyStats, crossEntropyBackward } from './softmax';
export { adamw } from './adamw';
export { rotary } from './rotary';
export { attentionForward, attentionBackwardKeys, attentionBackwardQueries, attentionScratchBytes } from './attention';
export { flashAttentionBackward } from './flash-attention';
export { savedFloatsPerHead } from './attention-panels';
export { mathProbe, clockProbe, fmaPeakProbe, expSimdProbe, expBufferProbe, tanhBufferProbe, erfBufferProbe } from './probes';

/** First byte after the module's static data: the JavaScript heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** madd on scalars, for the loader's fused-or-not probe. */
export function maddProbe(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}
