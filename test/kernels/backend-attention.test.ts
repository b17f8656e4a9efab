import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { AttentionVariant, FloatBuf, Kernels } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { f16round } from '../../src/backends/f16.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * Kernels.attention / attentionBackward of the wasm backend against the js reference (the composed GEMMs
 * and causal softmax), in f32 and f16 storage, through NeoX's fused QKV layout. The portable build adds
 * every product one at a time in ascending order, as the reference does, and sums the softmax column by
 * column in the reference's order, so its materialized attention is the reference's bits. The relaxed
 * build fuses those sums; flash has its own numerics (docs/numerics.md): both agree to float32 rounding.
 */
const runtime = useRuntimes();

interface Shape { batch: number; seq: number; heads: number; headDim: number }

function attend(K: Kernels, s: Shape, variant: AttentionVariant, seed: number): FloatBuf[] {
  const st = K.dtype === 'f16' ? f16round : Math.fround;
  const r = rng(seed);
  const rows = s.batch * s.seq, h = s.heads * s.headDim;
  const fill = (n: number, k: number) => { const b = K.alloc(n); for (let i = 0; i < n; i++) b[i] = st(k * r()); return b; };
  const args = { ...s, scale: 1 / Math.sqrt(s.headDim), variant, qkv: fill(rows * 3 * h, 3), ctx: K.alloc(rows * h),
    saved: K.alloc(K.attentionSavedSize({ ...s, variant })) };
  K.attention(args);
  const ctx = args.ctx.slice();
  const dqkv = K.alloc(rows * 3 * h);
  K.attentionBackward({ ...args, dctx: fill(rows * h, 1), dqkv });
  return [ctx, dqkv];
}

/** max |a − b| / max |b| over one buffer. */
function relErr(a: FloatBuf, b: FloatBuf): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}

const SHAPES: Shape[] = [{ batch: 2, seq: 37, heads: 3, headDim: 12 }, { batch: 1, seq: 70, heads: 2, headDim: 64 }, { batch: 3, seq: 1, heads: 1, headDim: 5 }];

describe.each(['f32', 'f16'] as const)('%s storage', (dtype) => {
  describe.each(FMA_VARIANTS)('fma=%s', (fma) => {
    it.each(SHAPES)('materialized attention matches the reference (%o)', (s) => {
      const ours = attend(new WasmKernels(runtime({ threads: 2, fma }), dtype), s, 'materialized', 7);
      const ref = attend(createJsKernels(dtype), s, 'materialized', 7);
      ours.forEach((o, i) => {
        if (!fma) expect(sameBits(o, ref[i]!), `output ${i}`).toBe(true);
        else expect(relErr(o, ref[i]!), `output ${i}`).toBeLessThan(dtype === 'f16' ? 4e-3 : 2e-6);
      });
    });

    it.each(SHAPES)('flash attention agrees with the reference to float32 rounding (%o)', (s) => {
      const ours = attend(new WasmKernels(runtime({ threads: 2, fma }), dtype), s, 'flash', 7);
      const ref = attend(createJsKernels(dtype), s, 'materialized', 7);
      ours.forEach((o, i) => expect(relErr(o, ref[i]!), `output ${i}`).toBeLessThan(dtype === 'f16' ? 4e-3 : 2e-6));
    });
  });
});

it('the variants each backend has, and the saved sizes: T²/2 and a bit per head (materialized), O(T) (flash)', () => {
  const js = createJsKernels('f32'), wasm = new WasmKernels(runtime({ threads: 1 }), 'f32');
  expect(js.attentionVariants).toEqual(['materialized']);
  expect(wasm.attentionVariants).toEqual(['materialized', 'flash']);
  const s = { batch: 2, seq: 1024, heads: 4, headDim: 64 };
  expect(js.attentionSavedSize(s)).toBe(2 * 4 * 1024 * 1024);
  expect(wasm.attentionSavedSize(s) / (8 * 1024 * 1024)).toBeCloseTo(0.5, 1);
  expect(wasm.attentionSavedSize({ ...s, variant: 'flash' })).toBe(8 * 2 * 1024);
  expect(() => js.attentionSavedSize({ ...s, variant: 'flash' })).toThrow(/no flash attention/);
});
