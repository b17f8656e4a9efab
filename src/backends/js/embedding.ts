import type { FloatBuf } from '../kernels.js';
import type { Rounding } from './rounding.js';

export function embedding(R: Rounding, a: { rows: number; n: number; ids: Int32Array; table: FloatBuf; y: FloatBuf }): void {
  const { st } = R;
  const { rows, n, ids, table, y } = a;
  for (let i = 0; i < rows; i++) {
    const src = ids[i]! * n;
    for (let j = 0; j < n; j++) y[i * n + j] = st(table[src + j]!);
  }
}

/** Sums the rows of dy that share an id (ascending row order), then adds each sum to its table row. */
export function embeddingBackward(R: Rounding, a: { rows: number; n: number; ids: Int32Array; dy: FloatBuf; dtable: FloatBuf }): void {
  const { r, st } = R;
  const { rows, n, ids, dy, dtable } = a;
  const rowsOf = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    const list = rowsOf.get(ids[i]!);
    if (list) list.push(i);
    else rowsOf.set(ids[i]!, [i]);
  }
  const acc = new R.Scratch(n);
  for (const [id, list] of rowsOf) {
    acc.fill(0);
    for (const i of list) for (let j = 0; j < n; j++) acc[j] = acc[j]! + dy[i * n + j]!;
    const o = id * n;
    for (let j = 0; j < n; j++) dtable[o + j] = st(r(dtable[o + j]! + st(acc[j]!)));
  }
}
