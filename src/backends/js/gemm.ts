import type { GemmArgs } from '../kernels.js';
import type { Rounding } from './rounding.js';

/**
 * Reference GEMM. Each output is `s = 0; for p ascending: s = s + a·b` (product and sum each rounded),
 * computed row by row with a scratch row of accumulators (i-p-j loop order): every output still sees
 * its products in ascending p, so this is the reference order, just cache-friendlier than i-j-p.
 */
export function gemm(R: Rounding, g: GemmArgs): void {
  const { op, m, n, k, a, lda, b, ldb, c, ldc } = g;
  const batch = g.batch ?? 1;
  const acc = new R.Scratch(n);
  for (let t = 0; t < batch; t++) {
    const a0 = t * (g.strideA ?? 0);
    const b0 = t * (g.strideB ?? 0);
    const c0 = t * (g.strideC ?? 0);
    for (let i = 0; i < m; i++) {
      if (op === 'nt') dotRows(R, acc, a, a0 + i * lda, b, b0, ldb, n, k);
      else {
        // A[i, p] is a[i·lda + p] ('nn') or a[p·lda + i] ('tn').
        const aStep = op === 'nn' ? 1 : lda;
        const aRow = op === 'nn' ? a0 + i * lda : a0 + i;
        axpyRows(R, acc, a, aRow, aStep, b, b0, ldb, n, k);
      }
      store(R, g, acc, c, c0 + i * ldc, n);
    }
  }
}

type Acc = Float64Array | Float32Array;
type Buf = GemmArgs['a'];

/*
 * The inner loops come in a float64 and a float32 variant: the same order, but with Math.fround written
 * inline, because a shared rounding callback makes the hottest loop polymorphic (about 5× slower).
 * A float32 accumulator array rounds each sum on store.
 */

/** acc[j] = Σ_p A[i,p]·B[p,j] with B row-major (k×n). */
function axpyRows(R: Rounding, acc: Acc, a: Buf, aRow: number, aStep: number, b: Buf, b0: number, ldb: number, n: number, k: number): void {
  acc.fill(0);
  if (R.dtype === 'f64') {
    for (let p = 0; p < k; p++) {
      const aip = a[aRow + p * aStep]!;
      const bRow = b0 + p * ldb;
      for (let j = 0; j < n; j++) acc[j] = acc[j]! + aip * b[bRow + j]!;
    }
  } else {
    for (let p = 0; p < k; p++) {
      const aip = a[aRow + p * aStep]!;
      const bRow = b0 + p * ldb;
      for (let j = 0; j < n; j++) acc[j] = acc[j]! + Math.fround(aip * b[bRow + j]!);
    }
  }
}

/** acc[j] = Σ_p A[i,p]·B[j,p] with B stored n×k ('nt': both operands read along p). */
function dotRows(R: Rounding, acc: Acc, a: Buf, aRow: number, b: Buf, b0: number, ldb: number, n: number, k: number): void {
  const f64 = R.dtype === 'f64';
  for (let j = 0; j < n; j++) {
    const bRow = b0 + j * ldb;
    let s = 0;
    if (f64) for (let p = 0; p < k; p++) s += a[aRow + p]! * b[bRow + p]!;
    else for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(a[aRow + p]! * b[bRow + p]!));
    acc[j] = s;
  }
}

/** The epilogue: alpha, bias, storage rounding, accumulate. */
function store(R: Rounding, g: GemmArgs, acc: Acc, c: Buf, c0: number, n: number): void {
  const { r, st } = R;
  const alpha = g.alpha ?? 1;
  const alphaR = r(alpha);
  const bias = g.bias;
  for (let j = 0; j < n; j++) {
    let s = acc[j]!;
    if (alpha !== 1) s = r(s * alphaR);
    if (bias) s = r(s + bias[j]!);
    const v = st(s);
    c[c0 + j] = g.accumulate ? st(r(c[c0 + j]! + v)) : v;
  }
}
