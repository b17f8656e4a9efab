import type { FloatBuf } from '../kernels.js';
import type { Rounding } from './rounding.js';

/** Causal softmax over count t×t matrices; row i of each uses columns 0..i. */
export function causalSoftmax(R: Rounding, a: { count: number; t: number; x: FloatBuf; y: FloatBuf }): void {
  const { r, st } = R;
  const { count, t, x, y } = a;
  const e = new R.Scratch(t);
  for (let row = 0; row < count * t; row++) {
    const i = row % t;
    const o = row * t;
    let mx = -Infinity;
    for (let j = 0; j <= i; j++) if (x[o + j]! > mx) mx = x[o + j]!;
    let s = 0;
    for (let j = 0; j <= i; j++) {
      e[j] = r(Math.exp(r(x[o + j]! - mx)));
      s = r(s + e[j]!);
    }
    for (let j = 0; j <= i; j++) y[o + j] = st(r(e[j]! / s));
    for (let j = i + 1; j < t; j++) y[o + j] = 0;
  }
}

export function causalSoftmaxBackward(R: Rounding, a: { count: number; t: number; y: FloatBuf; dy: FloatBuf; dx: FloatBuf }): void {
  const { r, st } = R;
  const { count, t, y, dy, dx } = a;
  for (let row = 0; row < count * t; row++) {
    const i = row % t;
    const o = row * t;
    let d = 0;
    for (let j = 0; j <= i; j++) d = r(d + r(y[o + j]! * dy[o + j]!));
    for (let j = 0; j <= i; j++) dx[o + j] = st(r(y[o + j]! * r(dy[o + j]! - d)));
    for (let j = i + 1; j < t; j++) dx[o + j] = 0;
  }
}

/** max_j x_j and S = Σ_j exp(x_j − max) of one logits row, shared by the forward and the backward. */
function rowStats(R: Rounding, x: FloatBuf, o: number, v: number): { mx: number; s: number } {
  const r = R.r;
  let mx = -Infinity;
  for (let j = 0; j < v; j++) if (x[o + j]! > mx) mx = x[o + j]!;
  let s = 0;
  for (let j = 0; j < v; j++) s = r(s + r(Math.exp(r(x[o + j]! - mx))));
  return { mx, s };
}

/** A row's loss from its statistics, Megatron's form: log(S) − (x_target − max). Shared with the wasm backend. */
export function crossEntropyLoss(r: (x: number) => number, mx: number, s: number, xTarget: number): number {
  return r(r(Math.log(s)) - r(xTarget - mx));
}

export function crossEntropy(R: Rounding, a: { rows: number; v: number; logits: FloatBuf; targets: Int32Array; losses: FloatBuf }): void {
  const { rows, v, logits, targets, losses } = a;
  for (let i = 0; i < rows; i++) {
    const o = i * v;
    const { mx, s } = rowStats(R, logits, o, v);
    losses[i] = crossEntropyLoss(R.r, mx, s, logits[o + targets[i]!]!);
  }
}

export function crossEntropyBackward(R: Rounding, a: {
  rows: number; v: number; logits: FloatBuf; targets: Int32Array; gradScale: number; dlogits: FloatBuf;
}): void {
  const { r, st } = R;
  const { rows, v, logits, targets, dlogits } = a;
  const g = r(a.gradScale);
  for (let i = 0; i < rows; i++) {
    const o = i * v;
    const { mx, s } = rowStats(R, logits, o, v);
    const target = targets[i]!;
    for (let j = 0; j < v; j++) {
      const p = r(r(Math.exp(r(logits[o + j]! - mx))) / s);
      dlogits[o + j] = st(r(r(j === target ? p - 1 : p) * g));
    }
  }
}
