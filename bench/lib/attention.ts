/** What the attention benchmarks share: shapes, FLOP counts, a repeatable kernel call and the GEMM baseline. */
import * as A from '../../src/kernels/attention.js';
import type { KernelRuntime } from '../../src/kernels/runtime.js';

export interface AttentionShape { batch: number; heads: number; seq: number; headDim: number }

/**
 * Causal attention FLOPs of forward + backward: per head, Q·Kᵀ and P·V over the T(T+1)/2 visible pairs
 * (2·D flops each) forward, and dP, dV, dQ, dK backward: 6 products × 2·D flops × pairs. The flash
 * backward's recomputation is not counted (the same FLOPs for both variants, as the model needs them).
 */
export const attentionFlops = (s: AttentionShape) => s.batch * s.heads * 6 * 2 * s.headDim * (s.seq * (s.seq + 1)) / 2;

/** NeoX's fused layout ([B, T, H, 3, D] in, [B, T, H·D] out) in `rt`'s memory, with deterministic values. */
export function attentionBuffers(rt: KernelRuntime, s: AttentionShape) {
  const { batch: B, heads: H, seq: T, headDim: D } = s;
  const qkv = rt.heap.f32(B * T * H * 3 * D), grads = rt.heap.f32(qkv.length);
  const o = rt.heap.f32(B * T * H * D), dO = rt.heap.f32(o.length);
  for (let i = 0; i < qkv.length; i++) qkv[i] = ((i * 7919) % 1000) / 500 - 1;
  for (let i = 0; i < dO.length; i++) dO[i] = ((i * 104729) % 1000) / 1000 - 0.5;
  const strides = { batch: T * H * 3 * D, head: 3 * D, row: H * 3 * D };
  const triple = (buf: Float32Array) => ({ q: buf.byteOffset, k: buf.byteOffset + 4 * D, v: buf.byteOffset + 8 * D, strides });
  return { x: triple(qkv), grads: triple(grads), out: { o: o.byteOffset, dO: dO.byteOffset, strides: { batch: T * H * D, head: D, row: H * D } }, keep: [qkv, grads, o, dO] };
}

/** One forward + backward of `variant` on fresh buffers, as a repeatable call. */
export function attentionBench(rt: KernelRuntime, s: AttentionShape, variant: A.AttentionVariant): () => void {
  const b = attentionBuffers(rt, s);
  const saved = rt.heap.f32(A.attentionSavedFloats(rt, s, variant));
  const shape = { ...s, scale: 1 / Math.sqrt(s.headDim) };
  return () => {
    A.attentionForward(rt, shape, b.x, b.out, saved.byteOffset, { variant });
    A.attentionBackward(rt, shape, b.x, b.out, saved.byteOffset, b.grads, { variant });
    void b.keep;
  };
}

/** A square n³ SGEMM with 2n³ ≈ `flops`: the GEMM rate on the same FLOPs. */
export function gemmWithFlops(rt: KernelRuntime, flops: number): { call: () => void; flops: number } {
  const n = Math.max(64, Math.round(Math.cbrt(flops / 2) / 16) * 16);
  const a = rt.heap.f32(n * n), b = rt.heap.f32(n * n), c = rt.heap.f32(n * n);
  a.fill(0.5);
  b.fill(0.25);
  const args = [0, n, n, n, a.byteOffset, n, b.byteOffset, n, c.byteOffset, n, 1, 0, 0, 1, 0, 0, 0];
  const keep = [a, b, c]; // the views own their memory: it must outlive the call
  return { call: () => void rt.run('gemm', args, keep.length > 0), flops: 2 * n ** 3 };
}
