// Memory-bound kernels of the trainer's Kernels contract whose every op is exact (not reorderable), plus the
// reductions the contract lets us block: each is vectorized lane-wise, so lanes are independent and the
// result is the reference's bit for bit. `f16` rounds every stored output to binary16.
import { roundF16, st16 } from './fp16';
import { at, loadLanes, storeLanes } from './simd';
import { nextTask } from './tasks';

/** Elements per task of the flat kernels (64 KiB of float32). */
export const CHUNK: i32 = 16384;

/** y = st16(a + b), or with `accumulate` y = st16(y + st16(a + b)). */
export function add(n: i32, a: usize, b: usize, y: usize, accumulate: bool, f16: bool): void {
  for (let t = nextTask(); t * CHUNK < n; t = nextTask()) {
    const end = min(n, (t + 1) * CHUNK);
    for (let i = t * CHUNK; i < end; i += 4) {
      let v = st16(f32x4.add(loadLanes(a, i, end), loadLanes(b, i, end)), f16);
      if (accumulate) v = st16(f32x4.add(loadLanes(y, i, end), v), f16);
      storeLanes(y, i, end, v);
    }
  }
}

/** y = st16(x · alpha). */
export function scale(n: i32, x: usize, alpha: f32, y: usize, f16: bool): void {
  const va = f32x4.splat(alpha);
  for (let t = nextTask(); t * CHUNK < n; t = nextTask()) {
    const end = min(n, (t + 1) * CHUNK);
    for (let i = t * CHUNK; i < end; i += 4) storeLanes(y, i, end, st16(f32x4.mul(loadLanes(x, i, end), va), f16));
  }
}

/** y = st16(x): rounding to binary16 (f16) or a plain copy. */
export function copy(n: i32, x: usize, y: usize, f16: bool): i32 {
  for (let t = nextTask(); t * CHUNK < n; t = nextTask()) {
    const end = min(n, (t + 1) * CHUNK);
    for (let i = t * CHUNK; i < end; i += 4) storeLanes(y, i, end, st16(loadLanes(x, i, end), f16));
  }
  return 0;
}

/** Rows per task for row-wise kernels over rows of `cols` elements (about CHUNK elements per task). */
// @ts-ignore: decorator
@inline export function rowsPerTask(cols: i32): i32 { return max(1, CHUNK / max(cols, 1)); }

/** y[i][j] = st16(y[i][j] + bias[j]). */
export function addBias(rows: i32, cols: i32, y: usize, bias: usize, f16: bool): void {
  const per = rowsPerTask(cols);
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      const row = at(y, r * cols);
      for (let j = 0; j < cols; j += 4) storeLanes(row, j, cols, st16(f32x4.add(loadLanes(row, j, cols), loadLanes(bias, j, cols)), f16));
    }
  }
}

/** Columns per task of the column-sum kernels: 16 columns = 4 vectors, so 8 accumulators fit in registers. */
export const COLS_PER_TASK: i32 = 16;

/**
 * Column sums over rows (ascending, rounded to float32 after each add), then db[j] = st16(db[j] + st16(sum)):
 * Kernels.biasGrad. Each task owns 16 columns, so the order of a column's sum never depends on threads.
 */
export function biasGrad(rows: i32, cols: i32, dy: usize, db: usize, f16: bool): void {
  for (let t = nextTask(); t * COLS_PER_TASK < cols; t = nextTask()) {
    const j0 = t * COLS_PER_TASK;
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (let r = 0; r < rows; r++) {
      const row = at(dy, r * cols);
      s0 = f32x4.add(s0, loadLanes(row, j0, cols)); s1 = f32x4.add(s1, loadLanes(row, j0 + 4, cols));
      s2 = f32x4.add(s2, loadLanes(row, j0 + 8, cols)); s3 = f32x4.add(s3, loadLanes(row, j0 + 12, cols));
    }
    accumulateInto(db, j0, cols, s0, f16); accumulateInto(db, j0 + 4, cols, s1, f16);
    accumulateInto(db, j0 + 8, cols, s2, f16); accumulateInto(db, j0 + 12, cols, s3, f16);
  }
}

/** p[j..j+4) = st16(p + st16(s)), within [0, n). */
// @ts-ignore: decorator
@inline export function accumulateInto(p: usize, j: i32, n: i32, s: v128, f16: bool): void {
  if (j < n) storeLanes(p, j, n, st16(f32x4.add(loadLanes(p, j, n), st16(s, f16)), f16));
}

/** Elements per block of the float64 sums: the block partition is fixed by n, never by threads. */
export const SUM_BLOCK: i32 = 4096;

/**
 * partials[b] = Σ over block b of x (or x², squared in float64), in float64: two f64x2 accumulators over
 * the block (element i goes to lane i mod 4), combined (l0 + l2) + (l1 + l3). The caller adds the partials
 * in ascending b.
 */
export function sumBlocks(n: i32, x: usize, squares: bool, partials: usize): void {
  for (let t = nextTask(); t * SUM_BLOCK < n; t = nextTask()) {
    const end = min(n, (t + 1) * SUM_BLOCK);
    let a = f64x2.splat(0), b = a;
    for (let i = t * SUM_BLOCK; i < end; i += 4) {
      const v = loadLanes(x, i, end);
      let lo = f64x2.promote_low_f32x4(v);
      let hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
      if (squares) { lo = f64x2.mul(lo, lo); hi = f64x2.mul(hi, hi); }
      a = f64x2.add(a, lo);
      b = f64x2.add(b, hi);
    }
    const s = f64x2.add(a, b);
    store<f64>(partials + ((<usize>t) << 3), f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
  }
}

/** Kernels.roundF16 over tasks; returns how many results are ±Inf or NaN. */
export function roundF16Blocks(n: i32, x: usize, y: usize): i32 {
  let bad = 0;
  for (let t = nextTask(); t * CHUNK < n; t = nextTask()) {
    const start = t * CHUNK;
    bad += roundF16(at(x, start), at(y, start), min(n, start + CHUNK) - start);
  }
  return bad;
}
