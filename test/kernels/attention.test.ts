import { describe, expect, it } from 'vitest';
import { f16round } from '../../src/backends/f16.js';
import * as A from '../../src/kernels/attention.js';
import type { KernelRuntime } from '../../src/kernels/runtime.js';
import { attentionReference } from './helpers/attention-reference.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * The causal attention kernels, materialized and flash, forward and backward, against a float64 reference in
 * NeoX's fused QKV layout ([B, T, H, 3, D] in, [B, T, H·D] out) with T and D crossing the 8-query strips,
 * the 6-key strips and the 48-key flash blocks; the same bits on 1 and 2 threads; binary16 storage; a head
 * large enough to grow the threads' scratch.
 */
const runtime = useRuntimes();
const VARIANTS = ['materialized', 'flash'] as const;

function setup(rt: KernelRuntime, B: number, H: number, T: number, D: number, variant: A.AttentionVariant, seed: number) {
  const next = rng(seed);
  const qkvStrides = { batch: T * H * 3 * D, head: 3 * D, row: H * 3 * D };
  const outStrides = { batch: T * H * D, head: D, row: H * D };
  const qkv = rt.heap.f32(B * T * H * 3 * D);
  const dO = rt.heap.f32(B * T * H * D);
  qkv.forEach((_, i) => (qkv[i] = 2 * next()));
  dO.forEach((_, i) => (dO[i] = next()));
  const grads = rt.heap.f32(qkv.length), o = rt.heap.f32(dO.length);
  const saved = rt.heap.f32(A.attentionSavedFloats(rt, { batch: B, heads: H, seq: T }, variant));
  const triple = (buf: Float32Array) => ({ q: buf.byteOffset, k: buf.byteOffset + 4 * D, v: buf.byteOffset + 8 * D, strides: qkvStrides });
  return { qkv, dO, grads, o, saved, x: triple(qkv), g: triple(grads), out: { o: o.byteOffset, dO: dO.byteOffset, strides: outStrides }, qkvStrides, outStrides };
}

function run(rt: KernelRuntime, variant: A.AttentionVariant, B: number, H: number, T: number, D: number, f16 = false) {
  const s = setup(rt, B, H, T, D, variant, B * 1000 + T + D);
  if (f16) for (const buf of [s.qkv, s.dO]) buf.forEach((v, i) => (buf[i] = Math.fround(Math.round(v * 1024) / 1024)));
  const shape = { batch: B, heads: H, seq: T, headDim: D, scale: 1 / Math.sqrt(D) };
  A.attentionForward(rt, shape, s.x, s.out, s.saved.byteOffset, { variant, f16 });
  const o = s.o.slice();
  A.attentionBackward(rt, shape, s.x, s.out, s.saved.byteOffset, s.g, { variant, f16 });
  return { ...s, o, shape };
}

/** max |kernel − float64 reference| over O, dQ, dK, dV of every (b, h). */
function worstError(s: ReturnType<typeof run>, B: number, H: number, T: number, D: number): number {
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
  return worst;
}

describe.each(VARIANTS)('%s attention', (variant) => {
  it.each([[2, 3, 77, 20], [1, 2, 130, 64], [1, 1, 5, 3], [1, 1, 1, 1], [2, 1, 97, 9]])('B=%i H=%i T=%i D=%i: O, dQ, dK, dV match float64', (B, H, T, D) => {
    expect(worstError(run(runtime({ threads: 2 }), variant, B, H, T, D), B, H, T, D)).toBeLessThan(2e-6);
  });

  it.each(FMA_VARIANTS)('fma=%s: 1 and 2 threads give the same bits (f32 and f16)', (fma) => {
    for (const f16 of [false, true]) {
      const one = run(runtime({ threads: 1, fma }), variant, 2, 2, 140, 16, f16);
      const two = run(runtime({ threads: 2, fma }), variant, 2, 2, 140, 16, f16);
      expect(sameBits(one.o, two.o)).toBe(true);
      expect(sameBits(one.grads, two.grads)).toBe(true);
    }
  });

  it('f16: every output is a binary16 value', () => {
    const s = run(runtime({ threads: 2 }), variant, 1, 2, 40, 12, true);
    for (const buf of [s.o, s.grads]) expect(buf.every((v) => Object.is(f16round(v), v))).toBe(true);
    expect(s.grads.some((v) => v !== 0)).toBe(true);
  });
});

it('materialized: the saved panels hold causal probability columns that sum to 1', () => {
  const rt = runtime({ threads: 2 });
  const T = 21, s = setup(rt, 1, 1, T, 8, 'materialized', 5);
  A.attentionForward(rt, { batch: 1, heads: 1, seq: T, headDim: 8, scale: 0.3 }, s.x, s.out, s.saved.byteOffset, { variant: 'materialized' });
  // Panel q (queries 8q..8q+7) starts at float 32·q·(q+2), one row of 8 lanes per key.
  for (let i = 0; i < T; i++) {
    const q = i >> 3, base = 32 * q * (q + 2), lane = i & 7;
    let sum = 0;
    for (let j = 0; j < T; j++) {
      const p = j < 8 * q + 12 ? s.saved[base + 8 * j + lane]! : 0;
      if (j > i) expect(p).toBe(0);
      sum += p;
    }
    expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
  }
});

it('a head whose packed operands exceed the initial 8 MiB scratch grows it (flash, T = 256, D = 2048)', () => {
  const rt = runtime({ threads: 2 });
  const m = run(rt, 'materialized', 1, 1, 256, 2048);
  const f = run(rt, 'flash', 1, 1, 256, 2048);
  let worst = 0, scale = 0, worstO = 0;
  for (let i = 0; i < m.grads.length; i++) {
    worst = Math.max(worst, Math.abs(m.grads[i]! - f.grads[i]!));
    scale = Math.max(scale, Math.abs(m.grads[i]!));
  }
  for (let i = 0; i < m.o.length; i++) worstO = Math.max(worstO, Math.abs(m.o[i]! - f.o[i]!));
  expect(scale).toBeGreaterThan(0);
  expect(worst / scale).toBeLessThan(1e-4);
  expect(worstO).toBeLessThan(1e-5);
});

it('rejects a shape without heads', () => {
  const rt = runtime({ threads: 1 });
  const st = { batch: 0, head: 0, row: 4 };
  expect(() => A.attentionForward(rt, { batch: 1, heads: 0, seq: 4, headDim: 4, scale: 1 }, { q: 0, k: 0, v: 0, strides: st },
    { o: 0, strides: st }, 0, { variant: 'flash' })).toThrow(/heads must be a positive integer/);
});
