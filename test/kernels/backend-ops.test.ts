import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { FloatBuf, Kernels } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { f16round } from '../../src/backends/f16.js';
import { FMA_VARIANTS, rng, sameBits, useRuntimes } from './helpers/setup.js';

/**
 * Every non-GEMM op of the wasm backend against the js reference backend, in f32 and f16 storage and in both
 * builds. Ops with nothing reorderable in their contract must be bit-identical; ops with reorderable sums
 * must agree to float32 rounding. Every op gives the same bits on 1 and 2 threads. Sizes are odd and larger
 * than a task, so tails and the task split are exercised.
 */
const runtime = useRuntimes();

type Op = (K: Kernels, buf: (vals: number[]) => FloatBuf, out: (n: number) => FloatBuf, ids: (v: number[]) => Int32Array) => FloatBuf[];

/** The test cases: each returns its output buffers. `scale` shapes the random values. */
function cases(dtype: 'f32' | 'f16'): Record<string, { exact: boolean; tol?: number; op: Op }> {
  const st = dtype === 'f16' ? f16round : Math.fround;
  const r = rng(42);
  const rand = (n: number, s = 1, abs = false) => Array.from({ length: n }, () => st(abs ? Math.abs(r() * s) + 0.25 : r() * s));
  const rows = 37, n = 70, cols = 70, t = 23, count = 5, v = 301, ce = 9;
  const big = 40_003; // more than one 16K-element task
  const X = rand(rows * n, 4), G = rand(n), Bt = rand(n), DY = rand(rows * n), M = rand(rows), RS = rand(rows, 1, true);
  const GX = rand(rows * cols, 12), GB = rand(cols), GDY = rand(rows * cols);
  GX.splice(0, 10, ...[30, -30, 1e4, -1e4, 1e20, -1e20, 9.5, -9.5, 1e-9, -2e-9].map(st)); // ±1, overflow and tiny paths
  const S = rand(count * t * t, 10), SY = rand(count * t * t, 1, true), SDY = rand(count * t * t);
  const L = rand(ce * v, 20), T = Array.from({ length: ce }, (_, i) => (i * 37) % v);
  const P = rand(big), PG = rand(big), PM = rand(big), PV = rand(big, 1, true);
  const seq = 7, heads = 3, hd = 10, rot = 6, ld = heads * 3 * hd, rrows = 14, RX = rand(rrows * ld), RC = rand(seq * 3), RSN = rand(seq * 3);
  return {
    layerNorm: { exact: false, tol: 2e-6, op: (K, buf, out) => {
      const y = out(rows * n), mean = out(rows), rstd = out(rows);
      K.layerNorm({ rows, n, x: buf(X), gamma: buf(G), beta: buf(Bt), eps: 1e-5, y, mean, rstd });
      return [y, mean, rstd];
    } },
    layerNormBackward: { exact: false, tol: 2e-5, op: (K, buf) => {
      const dx = buf(DY.map((x) => -x)), dgamma = buf(G), dbeta = buf(Bt);
      K.layerNormBackward({ rows, n, x: buf(X), gamma: buf(G), mean: buf(M), rstd: buf(RS), dy: buf(DY), dx, dgamma, dbeta, accumulateDx: true });
      return [dx, dgamma, dbeta];
    } },
    geluTanh: { exact: true, op: (K, buf, out) => {
      const y = out(rows * cols), dx = out(rows * cols);
      K.gelu({ rows, cols, x: buf(GX), bias: buf(GB), y, kind: 'tanh' });
      K.geluBackward({ rows, cols, x: buf(GX), bias: buf(GB), dy: buf(GDY), dx, kind: 'tanh' });
      return [y, dx];
    } },
    geluErf: { exact: true, op: (K, buf, out) => {
      const y = out(rows * cols), dx = out(rows * cols);
      K.gelu({ rows, cols, x: buf(GX), y, kind: 'erf' });
      K.geluBackward({ rows, cols, x: buf(GX), dy: buf(GDY), dx, kind: 'erf' });
      return [y, dx];
    } },
    causalSoftmax: { exact: false, tol: 1e-6, op: (K, buf, out) => {
      const y = out(count * t * t), dx = out(count * t * t);
      K.causalSoftmax({ count, t, x: buf(S), y });
      K.causalSoftmaxBackward({ count, t, y: buf(SY), dy: buf(SDY), dx });
      return [y, dx];
    } },
    crossEntropy: { exact: false, tol: 1e-6, op: (K, buf, out, ids) => {
      const losses = out(ce), dlogits = out(ce * v), logits = buf(L), targets = ids(T);
      K.crossEntropy({ rows: ce, v, logits, targets, losses });
      K.crossEntropyBackward({ rows: ce, v, logits, targets, gradScale: 0.37, dlogits });
      return [losses, dlogits];
    } },
    adamw: { exact: true, op: (K, buf) => {
      const p = buf(P), m = buf(PM), vv = buf(PV);
      K.adamw({ n: big, p, g: buf(PG), m, v: vv, lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, step: 3 });
      return [p, m, vv];
    } },
    rotary: { exact: true, op: (K, buf) => {
      const a = buf(RX), b = buf(RX);
      K.rotary({ rows: rrows, seq, heads, headStride: 3 * hd, ld, rotDims: rot, x: a, cos: buf(RC), sin: buf(RSN) });
      K.rotary({ rows: rrows, seq, heads, headStride: 3 * hd, ld, rotDims: rot, x: b, cos: buf(RC), sin: buf(RSN), inverse: true });
      return [a, b];
    } },
    elementwise: { exact: true, op: (K, buf, out) => {
      const y = buf(PM), s = out(big), c = out(big), h = out(big), bb = buf(GX);
      K.add({ n: big, a: buf(P), b: buf(PG), y, accumulate: true });
      K.scale({ n: big, x: buf(P), alpha: 0.3, y: s });
      K.copy({ n: big, x: Float64Array.from(P, (x) => x * 1.001), y: c });
      K.roundF16({ n: big, x: buf(P.map((x) => x * 1.001)), y: h });
      K.addBias({ rows, cols, y: bb, bias: buf(GB) });
      return [y, s, c, h, bb];
    } },
    biasGrad: { exact: false, tol: 1e-6, op: (K, buf) => {
      const db = buf(GB);
      K.biasGrad({ rows, cols, dy: buf(GDY), db });
      return [db];
    } },
  };
}

function runCase(K: Kernels, dtype: 'f32' | 'f16', name: string): FloatBuf[] {
  const c = cases(dtype)[name]!;
  const buf = (vals: number[]) => { const b = K.alloc(vals.length); b.set(vals); return b; };
  const ids = (vals: number[]) => { const b = K.allocIds(vals.length); b.set(vals); return b; };
  return c.op(K, buf, (n) => K.alloc(n), ids);
}

/** max |a − b| / max(1, max |b|) over one buffer. */
function err(a: FloatBuf, b: FloatBuf): number {
  let d = 0, s = 1;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}

describe.each(['f32', 'f16'] as const)('%s storage', (dtype) => {
  const names = Object.keys(cases(dtype));
  describe.each(FMA_VARIANTS)('fma=%s', (fma) => {
    it.each(names)('%s matches the reference', (name) => {
      const c = cases(dtype)[name]!;
      const ours = runCase(new WasmKernels(runtime({ threads: 2, fma }), dtype), dtype, name);
      const ref = runCase(createJsKernels(dtype), dtype, name);
      ours.forEach((o, i) => {
        if (c.exact) expect(sameBits(o, ref[i]!), `${name}[${i}]`).toBe(true);
        // f16 outputs may differ by one binary16 rounding step where float32 sums differ.
        else expect(err(o, ref[i]!), `${name}[${i}]`).toBeLessThan(dtype === 'f16' ? 2e-3 : c.tol!);
      });
    });

    it.each(names)('%s: 1 and 2 threads give the same bits', (name) => {
      const one = runCase(new WasmKernels(runtime({ threads: 1, fma }), dtype), dtype, name);
      const two = runCase(new WasmKernels(runtime({ threads: 2, fma }), dtype), dtype, name);
      one.forEach((o, i) => expect(sameBits(o, two[i]!), `${name}[${i}]`).toBe(true));
    });
  });
});

it('sum and sumSquares accumulate in float64 over fixed blocks (same bits for 1 and 2 threads)', () => {
  const r = rng(3);
  const vals = Array.from({ length: 100_001 }, () => Math.fround(r() * 10));
  const results = [1, 2].map((threads) => {
    const K = new WasmKernels(runtime({ threads, fma: true }), 'f32');
    const x = K.alloc(vals.length);
    x.set(vals);
    return [K.sum({ n: vals.length, x }), K.sumSquares({ n: vals.length, x })];
  });
  expect(results[0]).toEqual(results[1]);
  const exact = vals.reduce((a, b) => a + b, 0);
  const exactSq = vals.reduce((a, b) => a + b * b, 0);
  expect(Math.abs(results[0]![0]! - exact)).toBeLessThan(1e-8);
  expect(Math.abs(results[0]![1]! - exactSq) / exactSq).toBeLessThan(1e-11);
  const K = new WasmKernels(runtime({ threads: 2, fma: true }), 'f32');
  const x = K.alloc(10);
  x[7] = Infinity;
  expect(K.sumSquares({ n: 10, x })).toBe(Infinity);
  x[3] = NaN;
  expect(K.sum({ n: 10, x })).toBeNaN();
});

it('buffers from outside the kernel memory work too (copied in and out), aliases included', () => {
  const K = new WasmKernels(runtime({ threads: 2, fma: true }), 'f32');
  const x = Float32Array.from({ length: 1000 }, (_, i) => i / 7);
  const own = K.alloc(1000);
  own.set(x);
  K.scale({ n: 1000, x: own, alpha: 3, y: own });
  K.scale({ n: 1000, x, alpha: 3, y: x }); // a plain Float32Array, in place
  expect(sameBits(x, own)).toBe(true);
  expect(() => K.scale({ n: 3, x: new Float64Array(3), alpha: 1, y: own })).toThrow(/Float32Array/);
});

it('cross entropy rejects targets outside the vocabulary', () => {
  const K = new WasmKernels(runtime({ threads: 1, fma: true }), 'f32');
  const targets = K.allocIds(2);
  targets.set([0, 5]);
  expect(() => K.crossEntropy({ rows: 2, v: 5, logits: K.alloc(10), targets, losses: K.alloc(2) })).toThrow(/outside \[0, 5\)/);
});

it('the wasm backend factory: f64 is the js reference; f32 and f16 share one runtime, so their buffers meet', async () => {
  const { closeWasmRuntime, createWasmKernels, wasmRuntime } = await import('../../src/backends/wasm/index.js');
  expect(createWasmKernels('f64').name).toBe('js-f64');
  const k32 = createWasmKernels('f32') as WasmKernels, k16 = createWasmKernels('f16') as WasmKernels;
  expect([k32.name, k16.name, k32.exact]).toEqual(['wasm-f32', 'wasm-f16', false]);
  expect(k32.variant).toBe(wasmRuntime().describe());
  const x = k32.alloc(3);
  x.set([1 + 2 ** -11, 70000, 1e-8]);
  const y = k16.alloc(3);
  k16.copy({ n: 3, x, y }); // an f32 buffer into f16 storage: one binary16 rounding each
  expect(Array.from(y)).toEqual([1, Infinity, 0]);
  await closeWasmRuntime();
});
