import { f16round } from '../f16.js';
import type { FloatBuf } from '../kernels.js';
import type { Rounding } from './rounding.js';

export function addBias(R: Rounding, a: { rows: number; cols: number; y: FloatBuf; bias: FloatBuf }): void {
  const { r, st } = R;
  const { rows, cols, y, bias } = a;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) y[o + j] = st(r(y[o + j]! + bias[j]!));
  }
}

export function biasGrad(R: Rounding, a: { rows: number; cols: number; dy: FloatBuf; db: FloatBuf }): void {
  const { r, st } = R;
  const { rows, cols, dy, db } = a;
  const acc = new R.Scratch(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) acc[j] = acc[j]! + dy[o + j]!;
  }
  for (let j = 0; j < cols; j++) db[j] = st(r(db[j]! + st(acc[j]!)));
}

export function add(R: Rounding, a: { n: number; a: FloatBuf; b: FloatBuf; y: FloatBuf; accumulate?: boolean }): void {
  const { r, st } = R;
  const { n, y } = a;
  const x1 = a.a;
  const x2 = a.b;
  if (a.accumulate) for (let i = 0; i < n; i++) y[i] = st(r(y[i]! + st(r(x1[i]! + x2[i]!))));
  else for (let i = 0; i < n; i++) y[i] = st(r(x1[i]! + x2[i]!));
}

export function scale(R: Rounding, a: { n: number; x: FloatBuf; alpha: number; y: FloatBuf }): void {
  const { r, st } = R;
  const alpha = r(a.alpha);
  const { n, x, y } = a;
  for (let i = 0; i < n; i++) y[i] = st(r(x[i]! * alpha));
}

export function copy(R: Rounding, a: { n: number; x: FloatBuf; y: FloatBuf }): void {
  const { r, st } = R;
  const { n, x, y } = a;
  for (let i = 0; i < n; i++) y[i] = st(r(x[i]!));
}

export function roundF16(a: { n: number; x: FloatBuf; y: FloatBuf }): void {
  const { n, x, y } = a;
  for (let i = 0; i < n; i++) y[i] = f16round(x[i]!);
}

export function fill(a: { n: number; y: FloatBuf; value: number }): void {
  a.y.fill(a.value, 0, a.n);
}

export function sum(a: { n: number; x: FloatBuf }): number {
  let s = 0;
  for (let i = 0; i < a.n; i++) s += a.x[i]!;
  return s;
}

export function sumSquares(a: { n: number; x: FloatBuf }): number {
  let s = 0;
  for (let i = 0; i < a.n; i++) s += a.x[i]! * a.x[i]!;
  return s;
}
