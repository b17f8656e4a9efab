// GPT-NeoX rotary embedding with half rotation (Kernels.rotary), in place, exact: each product rounded, then
// the sum. Row tasks; within a head the pairs (j, j + half) are vectorized four at a time.
import { st16 } from './fp16';
import { at, loadLanes, storeLanes } from './simd';
import { nextTask } from './tasks';
import { rowsPerTask } from './elementwise';

export function rotary(rows: i32, seq: i32, heads: i32, headStride: i32, ld: i32, rotDims: i32, x: usize,
  cos: usize, sin: usize, inverse: bool, f16: bool): void {
  const half = rotDims >> 1;
  const per = rowsPerTask(heads * rotDims);
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let row = t * per; row < end; row++) {
      const cs = at(cos, (row % seq) * half);
      const sn = at(sin, (row % seq) * half);
      for (let h = 0; h < heads; h++) {
        const x1p = at(x, row * ld + h * headStride);
        const x2p = at(x1p, half);
        for (let j = 0; j < half; j += 4) {
          const c = loadLanes(cs, j, half);
          let s = loadLanes(sn, j, half);
          if (inverse) s = f32x4.neg(s);
          const x1 = loadLanes(x1p, j, half);
          const x2 = loadLanes(x2p, j, half);
          storeLanes(x1p, j, half, st16(f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)), f16));
          storeLanes(x2p, j, half, st16(f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)), f16));
        }
      }
    }
  }
}
