import { describe, expect, it } from 'vitest';
import { f16round } from '../../src/backends/f16.js';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { FloatBuf, GemmArgs, Kernels } from '../../src/backends/kernels.js';
import { createKernels } from '../../src/backends/registry.js';
import { InputError } from '../../src/common/errors.js';
import { Rng } from '../../src/trainer/rng.js';

const rng = new Rng(5);
const randn = (K: Kernels, n: number, scale = 1): FloatBuf => {
  const x = K.alloc(n);
  for (let i = 0; i < n; i++) x[i] = scale * rng.normal();
  return x;
};

/** C = op(A)·op(B) by the reference order, written independently: per output, ascending p. */
function naiveGemm(round: (x: number) => number, g: GemmArgs): number[] {
  const A = (i: number, p: number) => (g.op === 'tn' ? g.a[p * g.lda + i]! : g.a[i * g.lda + p]!);
  const B = (p: number, j: number) => (g.op === 'nt' ? g.b[j * g.ldb + p]! : g.b[p * g.ldb + j]!);
  const out: number[] = [];
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let s = 0;
      for (let p = 0; p < g.k; p++) s = round(s + round(A(i, p) * B(p, j)));
      out.push(s);
    }
  }
  return out;
}

describe('gemm', () => {
  it.each([
    ['f64', (x: number) => x],
    ['f32', Math.fround],
  ] as const)('%s: nn, nt and tn are bit-identical to the naive ascending-k loop', (dtype, round) => {
    const K = createJsKernels(dtype);
    const [m, n, k] = [5, 7, 9];
    for (const op of ['nn', 'nt', 'tn'] as const) {
      const a = randn(K, m * k);
      const b = randn(K, k * n);
      const lda = op === 'tn' ? m : k;
      const ldb = op === 'nt' ? k : n;
      const c = K.alloc(m * n);
      const g: GemmArgs = { op, m, n, k, a, lda, b, ldb, c, ldc: n };
      K.gemm(g);
      expect(Array.from(c)).toEqual(naiveGemm(round, g));
    }
  });

  it('applies alpha, then bias, then accumulate, each rounded, in that order (f32)', () => {
    const K = createJsKernels('f32');
    const [m, n, k] = [3, 4, 6];
    const a = randn(K, m * k);
    const b = randn(K, n * k);
    const bias = randn(K, n);
    const c = randn(K, m * n);
    const before = Float32Array.from(c);
    K.gemm({ op: 'nt', m, n, k, a, lda: k, b, ldb: k, c, ldc: n, alpha: 0.3, bias, accumulate: true });
    const dots = naiveGemm(Math.fround, { op: 'nt', m, n, k, a, lda: k, b, ldb: k, c: K.alloc(m * n), ldc: n });
    const f = Math.fround;
    const want = dots.map((s, idx) => f(before[idx]! + f(f(f(s * f(0.3)) + bias[idx % n]!))));
    expect(Array.from(c)).toEqual(want);
  });

  it('batched operands at their strides equal separate calls on sub-views', () => {
    const K = createJsKernels('f64');
    const [m, n, k, batch] = [3, 2, 4, 3];
    const a = randn(K, batch * 20);
    const b = randn(K, batch * 16);
    const c = K.alloc(batch * 10);
    K.gemm({ op: 'nn', m, n, k, a, lda: 5, b, ldb: 3, c, ldc: 3, batch, strideA: 20, strideB: 16, strideC: 10 });
    for (let t = 0; t < batch; t++) {
      const ct = K.alloc(10);
      K.gemm({ op: 'nn', m, n, k, a: a.subarray(20 * t), lda: 5, b: b.subarray(16 * t), ldb: 3, c: ct, ldc: 3 });
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(c[10 * t + i * 3 + j]).toBe(ct[i * 3 + j]);
    }
  });

  it('f16 storage: one rounding of the float32 result; accumulate rounds the fresh product first', () => {
    const K16 = createJsKernels('f16');
    const K32 = createJsKernels('f32');
    const [m, n, k] = [4, 4, 8];
    const a = K16.alloc(m * k);
    const b = K16.alloc(k * n);
    for (let i = 0; i < a.length; i++) a[i] = f16round(rng.normal());
    for (let i = 0; i < b.length; i++) b[i] = f16round(rng.normal());
    const c16 = K16.alloc(m * n);
    const c32 = K32.alloc(m * n);
    K16.gemm({ op: 'nn', m, n, k, a, lda: k, b, ldb: n, c: c16, ldc: n });
    K32.gemm({ op: 'nn', m, n, k, a, lda: k, b, ldb: n, c: c32, ldc: n });
    expect(Array.from(c16)).toEqual(Array.from(c32, f16round));
    K16.gemm({ op: 'nn', m, n, k, a, lda: k, b, ldb: n, c: c16, ldc: n, accumulate: true });
    expect(Array.from(c16)).toEqual(Array.from(c32, (v) => f16round(f16round(v) + f16round(v))));
  });
});

/** Checks a backward kernel by central differences of Σ w·f(x) in fp64. */
function fdCheck(x: FloatBuf, forward: () => number, grad: FloatBuf, h = 1e-6, tol = 1e-7): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h;
    const up = forward();
    x[i] = v - h;
    const down = forward();
    x[i] = v;
    expect(Math.abs((up - down) / (2 * h) - grad[i]!), `element ${i}`).toBeLessThan(tol * (1 + Math.abs(grad[i]!)));
  }
}

const dot = (a: FloatBuf, b: FloatBuf) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('backward kernels match finite differences (f64)', () => {
  const K = createJsKernels('f64');

  it('layerNorm: dx, dgamma and dbeta', () => {
    const [rows, n] = [3, 5];
    const x = randn(K, rows * n);
    const gamma = randn(K, n);
    const beta = randn(K, n);
    const w = randn(K, rows * n);
    const y = K.alloc(rows * n);
    const mean = K.alloc(rows);
    const rstd = K.alloc(rows);
    const f = () => {
      K.layerNorm({ rows, n, x, gamma, beta, eps: 1e-5, y, mean, rstd });
      return dot(y, w);
    };
    f();
    const dx = K.alloc(rows * n);
    const dgamma = K.alloc(n);
    const dbeta = K.alloc(n);
    K.layerNormBackward({ rows, n, x, gamma, mean, rstd, dy: w, dx, dgamma, dbeta });
    fdCheck(x, f, dx);
    fdCheck(gamma, f, dgamma);
    fdCheck(beta, f, dbeta);
  });

  it.each(['tanh', 'erf'] as const)('gelu (%s) with bias: dx', (kind) => {
    const [rows, cols] = [2, 7];
    const x = randn(K, rows * cols, 2);
    const bias = randn(K, cols);
    const w = randn(K, rows * cols);
    const y = K.alloc(rows * cols);
    const f = () => {
      K.gelu({ rows, cols, x, bias, y, kind });
      return dot(y, w);
    };
    const dx = K.alloc(rows * cols);
    K.geluBackward({ rows, cols, x, bias, dy: w, dx, kind });
    fdCheck(x, f, dx);
  });

  it('causal softmax: dx, and masked entries are exactly 0', () => {
    const [count, t] = [2, 4];
    const x = randn(K, count * t * t);
    const w = randn(K, count * t * t);
    const y = K.alloc(count * t * t);
    const f = () => {
      K.causalSoftmax({ count, t, x, y });
      return dot(y, w);
    };
    f();
    for (let r = 0; r < count * t; r++) for (let j = (r % t) + 1; j < t; j++) expect(y[r * t + j]).toBe(0);
    const dx = K.alloc(count * t * t);
    K.causalSoftmaxBackward({ count, t, y, dy: w, dx });
    fdCheck(x, f, dx);
  });

  it('cross entropy: loss = logsumexp − target logit, and dlogits', () => {
    const [rows, v] = [3, 6];
    const logits = randn(K, rows * v, 3);
    const targets = Int32Array.from([0, 5, 2]);
    const losses = K.alloc(rows);
    const f = () => {
      K.crossEntropy({ rows, v, logits, targets, losses });
      return K.sum({ n: rows, x: losses });
    };
    f();
    const lse = Math.log(Array.from(logits.subarray(v, 2 * v), Math.exp).reduce((a, b) => a + b, 0));
    expect(losses[1]).toBeCloseTo(lse - logits[v + 5]!, 14);
    const d = K.alloc(rows * v);
    K.crossEntropyBackward({ rows, v, logits, targets, gradScale: 1, dlogits: d });
    fdCheck(logits, f, d);
  });

  it('rotary: the inverse is the transpose, and positions rotate pairs (j, j + half)', () => {
    const [rows, seq, heads, d, rot] = [6, 3, 2, 8, 4];
    const half = rot / 2;
    const cos = K.alloc(seq * half);
    const sin = K.alloc(seq * half);
    for (let i = 0; i < cos.length; i++) [cos[i], sin[i]] = [Math.cos(i + 0.5), Math.sin(i + 0.5)];
    const x = randn(K, rows * heads * d);
    const y = randn(K, rows * heads * d);
    const args = { rows, seq, heads, headStride: d, ld: heads * d, rotDims: rot, cos, sin };
    const rx = Float64Array.from(x);
    K.rotary({ ...args, x: rx });
    const rty = Float64Array.from(y);
    K.rotary({ ...args, x: rty, inverse: true });
    expect(dot(rx, y)).toBeCloseTo(dot(x, rty), 13);
    // Dims ≥ rot pass through; norms of rotated pairs are kept.
    for (let r = 0; r < rows; r++) for (let h = 0; h < heads; h++) for (let j = rot; j < d; j++) expect(rx[r * heads * d + h * d + j]).toBe(x[r * heads * d + h * d + j]);
    const o = 4 * heads * d; // row 4 = position 1
    expect(rx[o]).toBeCloseTo(x[o]! * cos[half]! - x[o + half]! * sin[half]!, 15);
  });

  it('embedding backward sums repeated ids in row order and leaves other rows alone', () => {
    const n = 3;
    const ids = Int32Array.from([2, 0, 2, 2]);
    const dy = randn(K, 4 * n);
    const dtable = K.alloc(4 * n).fill(1);
    K.embeddingBackward({ rows: 4, n, ids, dy, dtable });
    for (let j = 0; j < n; j++) {
      expect(dtable[2 * n + j]).toBe(1 + (dy[j]! + dy[2 * n + j]! + dy[3 * n + j]!));
      expect(dtable[0 * n + j]).toBe(1 + dy[n + j]!);
      expect(dtable[1 * n + j]).toBe(1);
      expect(dtable[3 * n + j]).toBe(1);
    }
  });
});

describe('adamw kernel', () => {
  it('is FusedAdam ADAM_MODE_1: m, v, bias correction, decoupled decay (f64)', () => {
    const K = createJsKernels('f64');
    const p = Float64Array.from([0.5, -1]);
    const g = Float64Array.from([0.1, 0.2]);
    const m = Float64Array.from([0.01, 0]);
    const v = Float64Array.from([0.001, 0]);
    K.adamw({ n: 2, p, g, m, v, lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, step: 2 });
    const m0 = 0.9 * 0.01 + 0.1 * 0.1;
    const v0 = 0.95 * 0.001 + 0.05 * 0.1 * 0.1;
    const u0 = m0 / (1 - 0.9 ** 2) / (Math.sqrt(v0 / (1 - 0.95 ** 2)) + 1e-8) + 0.01 * 0.5;
    expect(m[0]).toBeCloseTo(m0, 16);
    expect(v[0]).toBeCloseTo(v0, 16);
    expect(p[0]).toBeCloseTo(0.5 - 0.1 * u0, 15);
  });
});

describe('backend registry', () => {
  it('creates the js backend by name and rejects unknown names with an InputError', async () => {
    expect((await createKernels('js', 'f16')).name).toBe('js-f16');
    await expect(createKernels('cuda', 'f32')).rejects.toBeInstanceOf(InputError);
    await expect(createKernels('cuda', 'f32')).rejects.toThrow(/--backend: expected one of js/);
  });
});
