import { describe, expect, it } from 'vitest';
import * as A from '../../src/kernels/attention.js';
import type { KernelRuntime } from '../../src/kernels/runtime.js';
import { attentionReference } from './helpers/attention-reference.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * Causal attention forward and backward, materialized and flash variants, against a float64 reference, in
 * NeoX's fused QKV layout ([B, T, H, 3, D] in, [B, T, H·D] out) with T crossing block boundaries; and the
 * same bits on 1 and 2 threads.
 */
const runtime = useRuntimes();

function setup(rt: KernelRuntime, B: number, H: number, T: number, D: number, seed: number) {
  const next = rng(seed);
  const qkvStrides = { batch: T * H * 3 * D, head: 3 * D, row: H * 3 * D };
  const outStrides = { batch: T * H * D, head: D, row: H * D };
  const qkv = rt.heap.f32(B * T * H * 3 * D);
  const dO = rt.heap.f32(B * T * H * D);
  qkv.forEach((_, i) => (qkv[i] = 2 * next()));
  dO.forEach((_, i) => (dO[i] = next()));
  const grads = rt.heap.f32(qkv.length), o = rt.heap.f32(dO.length);
  const triple = (buf: Float32Array) => ({ q: buf.byteOffset, k: buf.byteOffset + 4 * D, v: buf.byteOffset + 8 * D, strides: qkvStrides });
  return { qkv, dO, grads, o, x: triple(qkv), g: triple(grads), out: { o: o.byteOffset, strides: outStrides }, dOut: { o: dO.byteOffset, strides: outStrides },
    probs: rt.heap.f32(B * H * T * T), lse: rt.heap.f32(B * H * T), qkvStrides, outStrides };
}

type Variant = 'materialized' | 'flash';

function run(rt: KernelRuntime, variant: Variant, B: number, H: number, T: number, D: number, backward = true) {
  const s = setup(rt, B, H, T, D, B * 1000 + T);
  const shape = { batch: B, heads: H, seq: T, headDim: D, scale: 1 / Math.sqrt(D) };
  if (variant === 'materialized') {
    A.attentionForward(rt, shape, s.x, s.out, s.probs.byteOffset);
    // dS overwrites P: the backward's last use of P comes before.
    if (backward) A.attentionBackward(rt, shape, s.x, s.dOut, s.probs.byteOffset, s.probs.byteOffset, s.g);
  } else {
    A.flashAttentionForward(rt, shape, s.x, s.out, s.lse.byteOffset);
    if (backward) A.flashAttentionBackward(rt, shape, s.x, s.out, s.dO.byteOffset, s.lse.byteOffset, s.g);
  }
  return { ...s, shape };
}

describe.each(['materialized', 'flash'] as const)('%s attention', (variant) => {
  it.each([[2, 3, 77, 20], [1, 2, 130, 64], [1, 1, 5, 3]])('B=%i H=%i T=%i D=%i: O, dQ, dK, dV match float64', (B, H, T, D) => {
    const s = run(runtime({ threads: 2 }), variant, B, H, T, D);
    let worst = 0;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const at = (buf: Float32Array, off: number, st: A.Strides) => ({ get: (t: number, d: number) => buf[b * st.batch + h * st.head + t * st.row + off + d]! });
        const ref = attentionReference(T, D, s.shape.scale, at(s.qkv, 0, s.qkvStrides), at(s.qkv, D, s.qkvStrides), at(s.qkv, 2 * D, s.qkvStrides), at(s.dO, 0, s.outStrides));
        for (let t = 0; t < T; t++) {
          for (let d = 0; d < D; d++) {
            worst = Math.max(worst, Math.abs(at(s.o, 0, s.outStrides).get(t, d) - ref.O[t]![d]!), Math.abs(at(s.grads, 0, s.qkvStrides).get(t, d) - ref.dQ[t]![d]!),
              Math.abs(at(s.grads, D, s.qkvStrides).get(t, d) - ref.dK[t]![d]!), Math.abs(at(s.grads, 2 * D, s.qkvStrides).get(t, d) - ref.dV[t]![d]!));
          }
        }
      }
    }
    expect(worst).toBeLessThan(2e-6);
  });

  it.each(FMA_VARIANTS)('fma=%s: 1 and 2 threads give the same bits', (fma) => {
    const one = run(runtime({ threads: 1, fma }), variant, 2, 2, 140, 16);
    const two = run(runtime({ threads: 2, fma }), variant, 2, 2, 140, 16);
    expect(sameBits(one.o, two.o)).toBe(true);
    expect(sameBits(one.grads, two.grads)).toBe(true);
  });
});

it('materialized probabilities are causal rows that sum to 1; flash lse is their log-normalizer', () => {
  const rt = runtime({ threads: 2 });
  const T = 70;
  const m = run(rt, 'materialized', 1, 1, T, 8, false);
  const f = run(rt, 'flash', 1, 1, T, 8, false);
  for (const i of [0, 1, 63, 64, 69]) {
    const row = m.probs.subarray(i * T, (i + 1) * T);
    expect(row.slice(i + 1).every((p) => p === 0)).toBe(true);
    expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
  }
  // Row 0 sees only itself: lse = scale·q₀·k₀.
  let s0 = 0;
  for (let d = 0; d < 8; d++) s0 += f.qkv[d]! * f.qkv[8 + d]!;
  expect(f.lse[0]).toBeCloseTo(s0 / Math.sqrt(8), 5);
});

it('rejects head dimensions above 256', () => {
  const rt = runtime({ threads: 1 });
  const shape = { batch: 1, heads: 1, seq: 4, headDim: 300, scale: 1 };
  const st = { batch: 0, head: 0, row: 300 };
  expect(() => A.flashAttentionForward(rt, shape, { q: 0, k: 0, v: 0, strides: st }, { o: 0, strides: st }, 0)).toThrow(/headDim 300 > 256/);
});
