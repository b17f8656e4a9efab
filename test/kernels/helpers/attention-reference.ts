/** Causal attention in float64, one (batch, head) slice at a time: the scalar reference for the kernels. */
export interface Slice { get(t: number, d: number): number }

export function attentionReference(T: number, D: number, scale: number, q: Slice, k: Slice, v: Slice, dO: Slice) {
  const P: number[][] = [];
  const O: number[][] = [];
  for (let i = 0; i < T; i++) {
    const s = Array.from({ length: i + 1 }, (_, j) => {
      let acc = 0;
      for (let d = 0; d < D; d++) acc += q.get(i, d) * k.get(j, d);
      return acc * scale;
    });
    const mx = Math.max(...s);
    const e = s.map((x) => Math.exp(x - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    P.push(e.map((x) => x / sum));
    O.push(Array.from({ length: D }, (_, d) => P[i]!.reduce((a, p, j) => a + p * v.get(j, d), 0)));
  }
  const dQ = zeros(T, D), dK = zeros(T, D), dV = zeros(T, D);
  for (let i = 0; i < T; i++) {
    const dP = P[i]!.map((_, j) => { let a = 0; for (let d = 0; d < D; d++) a += dO.get(i, d) * v.get(j, d); return a; });
    const delta = P[i]!.reduce((a, p, j) => a + p * dP[j]!, 0);
    P[i]!.forEach((p, j) => {
      const ds = scale * p * (dP[j]! - delta);
      for (let d = 0; d < D; d++) {
        dQ[i]![d]! += ds * k.get(j, d);
        dK[j]![d]! += ds * q.get(i, d);
        dV[j]![d]! += p * dO.get(i, d);
      }
    });
  }
  return { P, O, dQ, dK, dV };
}

function zeros(r: number, c: number): number[][] {
  return Array.from({ length: r }, () => new Array<number>(c).fill(0));
}
