/**
 * Plain-JavaScript baselines: what a careful programmer writes without SIMD or WebAssembly. The GEMM is
 * the cache-friendly i-k-j loop over Float32Array (a row of C is updated by a[i][p]·row p of B).
 */
export function jsGemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
}

/**
 * Causal attention forward and backward of one head (q, k, v, dO: T×D row-major), plain loops over
 * Float32Array, only the j ≤ i half computed. Writes o, dq, dk, dv; p and dp are T×T scratch.
 */
export function jsAttention(T: number, D: number, scale: number, q: Float32Array, k: Float32Array, v: Float32Array,
  dO: Float32Array, o: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array, p: Float32Array): void {
  for (let i = 0; i < T; i++) {
    let mx = -Infinity;
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += q[i * D + d]! * k[j * D + d]!;
      p[i * T + j] = s * scale;
      if (p[i * T + j]! > mx) mx = p[i * T + j]!;
    }
    let sum = 0;
    for (let j = 0; j <= i; j++) { p[i * T + j] = Math.exp(p[i * T + j]! - mx); sum += p[i * T + j]!; }
    for (let d = 0; d < D; d++) o[i * D + d] = 0;
    for (let j = 0; j <= i; j++) {
      const pij = (p[i * T + j] = p[i * T + j]! / sum);
      for (let d = 0; d < D; d++) o[i * D + d] = o[i * D + d]! + pij * v[j * D + d]!;
    }
  }
  dq.fill(0); dk.fill(0); dv.fill(0);
  for (let i = 0; i < T; i++) {
    let delta = 0;
    for (let d = 0; d < D; d++) delta += dO[i * D + d]! * o[i * D + d]!;
    for (let j = 0; j <= i; j++) {
      let dp = 0;
      for (let d = 0; d < D; d++) dp += dO[i * D + d]! * v[j * D + d]!;
      const pij = p[i * T + j]!;
      const ds = scale * pij * (dp - delta);
      for (let d = 0; d < D; d++) {
        dv[j * D + d] = dv[j * D + d]! + pij * dO[i * D + d]!;
        dq[i * D + d] = dq[i * D + d]! + ds * k[j * D + d]!;
        dk[j * D + d] = dk[j * D + d]! + ds * q[i * D + d]!;
      }
    }
  }
}
