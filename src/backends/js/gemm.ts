import type { GemmArgs } from '../kernels.js';
import type { Rounding } from './rounding.js';

/**
 * Reference GEMM. Each output is `s = 0; for p ascending: s = s + a·b` (product and sum each rounded),
 * computed row by row with a scratch row of accumulators (i-p-j loop order): every output still sees
 * its products in ascending p, so this is the reference order, just faster than a dot product per output.
 * 'nt' first copies Bᵀ into a k×n scratch so that all three ops share that loop.
 */
export function gemm(R: Rounding, g: GemmArgs): void {
  const { op, m, n, k, a, lda, c, ldc } = g;
  const batch = g.batch ?? 1;
  const acc = new R.Scratch(n);
  const packed = op === 'nt' ? new R.Scratch(k * n) : undefined;
  for (let t = 0; t < batch; t++) {
    const a0 = t * (g.strideA ?? 0);
    const b0 = t * (g.strideB ?? 0);
    const c0 = t * (g.strideC ?? 0);
    let b: Buf = g.b;
    let bOff = b0;
    let ldb = g.ldb;
    if (packed) {
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) packed[p * n + j] = g.b[b0 + j * g.ldb + p]!;
      [b, bOff, ldb] = [packed, 0, n];
    }
    // A[i, p] is a[i·lda + p] ('nn', 'nt') or a[p·lda + i] ('tn').
    const aStep = op === 'tn' ? lda : 1;
    for (let i = 0; i < m; i++) {
      const aRow = op === 'tn' ? a0 + i : a0 + i * lda;
      axpyRows(R, acc, a, aRow, aStep, b, bOff, ldb, n, k);
      store(R, g, acc, c, c0 + i * ldc, n);
    }
  }
}

type Acc = Float64Array | Float32Array;
type Buf = GemmArgs['a'];

/**
 * acc[j] = Σ_p A[i,p]·B[p,j] with B row-major (k×n). Written twice, float64 and float32, with Math.fround
 * inline: a shared rounding callback makes this hottest loop polymorphic (about 5× slower). The float32
 * accumulator array rounds each sum on store.
 */
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
