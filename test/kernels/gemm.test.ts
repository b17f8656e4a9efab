import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { GemmArgs } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * SGEMM for the three training products, against the js reference backend: the portable build adds the
 * products in the reference order, so it must match bit for bit; the relaxed build fuses each multiply-add,
 * so it must match to float32 rounding. Shapes cover edge tiles (MR = 4, NR = 8, task tiles 192×256,
 * k-blocks of 256) and odd sizes.
 */
const runtime = useRuntimes();
const SHAPES: [number, number, number][] = [[67, 45, 300], [5, 3, 2], [130, 257, 513], [1, 1, 1], [193, 257, 257], [9, 17, 0]];
const OPS = ['nn', 'nt', 'tn'] as const;

interface Case { op: GemmArgs['op']; m: number; n: number; k: number; batch: number; alpha?: number; bias?: boolean; accumulate?: boolean }

function run(K: WasmKernels | ReturnType<typeof createJsKernels>, c: Case, seed: number): Float32Array {
  const next = rng(seed);
  const { op, m, n, k, batch } = c;
  const lda = op === 'tn' ? m + 1 : k + 2; // padded leading dimensions: strides are honoured
  const ldb = op === 'nt' ? k + 3 : n + 1;
  const ldc = n + 5;
  const rowsA = op === 'tn' ? k : m;
  const rowsB = op === 'nt' ? n : k;
  const fill = (len: number) => { const b = K.alloc(len) as Float32Array; for (let i = 0; i < len; i++) b[i] = Math.fround(next()); return b; };
  const strideA = rowsA * lda, strideB = rowsB * ldb, strideC = m * ldc;
  const a = fill(batch * strideA), b = fill(batch * strideB), cc = fill(batch * strideC);
  const bias = c.bias ? fill(n) : undefined;
  K.gemm({ op, m, n, k, a, lda, b, ldb, c: cc, ldc, alpha: c.alpha, bias, accumulate: c.accumulate, batch, strideA, strideB, strideC });
  return cc;
}

describe.each(OPS)('gemm %s', (op) => {
  it.each(SHAPES)('portable build: %i×%i×%i bit-identical to the reference (f32 and f16)', (m, n, k) => {
    for (const dtype of ['f32', 'f16'] as const) {
      const W = new WasmKernels(runtime({ threads: 2, fma: false }), dtype);
      const J = createJsKernels(dtype);
      const c: Case = { op, m, n, k, batch: 1 };
      expect(sameBits(run(W, c, m + n + k), run(J, c, m + n + k))).toBe(true);
      const epilogue: Case = { op, m, n, k, batch: 2, alpha: 0.125, bias: true, accumulate: true };
      expect(sameBits(run(W, epilogue, 7), run(J, epilogue, 7))).toBe(true);
    }
  });

  it.each(SHAPES)('relaxed build: %i×%i×%i within float32 rounding of the reference', (m, n, k) => {
    const W = new WasmKernels(runtime({ threads: 2, fma: true }), 'f32');
    const J = createJsKernels('f64');
    const c: Case = { op, m, n, k, batch: 2, alpha: 0.5, bias: true };
    const got = run(W, c, 11);
    const want = run(J, c, 11);
    // |error| ≤ k·2⁻²³·Σ|a·b| ≤ k·2⁻²⁴ (entries below 0.5); with alpha and bias, below (k + 2)·2⁻²³.
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThanOrEqual((k + 2) * 2 ** -23);
  });

  it.each(FMA_VARIANTS)('fma=%s: 1 and 2 threads give the same bits', (fma) => {
    const c: Case = { op, m: 130, n: 257, k: 513, batch: 2, alpha: 0.25, bias: true, accumulate: true };
    const one = run(new WasmKernels(runtime({ threads: 1, fma }), 'f32'), c, 5);
    const two = run(new WasmKernels(runtime({ threads: 2, fma }), 'f32'), c, 5);
    expect(sameBits(one, two)).toBe(true);
  });
});

it('the relaxed build really fuses: a·b + c rounds once where the CPU has FMA', () => {
  const rt = runtime({ threads: 1, fma: true });
  expect(rt.variant).toBe('relaxed-fma');
  // On x86-64 with FMA3 and on arm64, V8 lowers relaxed_madd to a fused multiply-add.
  expect(rt.fused).toBe(true);
});
