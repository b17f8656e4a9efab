// Causal softmax (attention probabilities) and softmax cross-entropy, in the order of Kernels.causalSoftmax,
// causalSoftmaxBackward, crossEntropy and crossEntropyBackward. Each exp is the float64 fdlibm port rounded
// once to float32, as Math.exp followed by Math.fround. The reorderable sums are lane-blocked: element
// j < L - L%4 adds into accumulator j mod 4, accumulators combine (s0 + s1) + (s2 + s3), then the last L%4
// elements are added in order. The exps run two float64 lanes at a time (fdlibm-simd.ts, the same bits).
import { expf } from './fdlibm';
import { expf32x4 } from './fdlibm-simd';
import { st16 } from './fp16';
import { at, hmax, hsum, loadLanes, madd, storeLanes } from './simd';
import { nextTask } from './tasks';

/** max over x[0, L): `x > m ? x : m` from −Infinity (NaN never wins). */
function rowMax(x: usize, L: i32): f32 {
  const L4 = L & ~3;
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < L4; j += 4) mv = f32x4.pmax(mv, v128.load(at(x, j)));
  let m = hmax(mv);
  for (let j = L4; j < L; j++) { const v = load<f32>(at(x, j)); if (v > m) m = v; }
  return m;
}

/** e[j] = exp(x[j] − mx) for j < L (e may alias x); returns Σ e in the lane-blocked order. */
function expRow(x: usize, L: i32, mx: f32, e: usize): f32 {
  const L4 = L & ~3;
  const vm = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  for (let j = 0; j < L4; j += 4) {
    const v = expf32x4(f32x4.sub(v128.load(at(x, j)), vm));
    v128.store(at(e, j), v);
    acc = f32x4.add(acc, v);
  }
  let s = hsum(acc);
  for (let j = L4; j < L; j++) {
    const ej = expf(load<f32>(at(x, j)) - mx);
    store<f32>(at(e, j), ej);
    s += ej;
  }
  return s;
}

/** Rows per task for the t×t softmax: about 16K elements per task. */
// @ts-ignore: decorator
@inline function softmaxRowsPerTask(t: i32): i32 { return max(1, 16384 / max(t, 1)); }

export function causalSoftmaxForward(count: i32, t: i32, x: usize, y: usize, f16: bool): void {
  const per = softmaxRowsPerTask(t);
  const rows = count * t;
  for (let task = nextTask(); task * per < rows; task = nextTask()) {
    const end = min(rows, (task + 1) * per);
    for (let row = task * per; row < end; row++) {
      const L = row % t + 1;
      const xr = at(x, row * t);
      const yr = at(y, row * t);
      const mx = rowMax(xr, L);
      const s = f32x4.splat(expRow(xr, L, mx, yr));
      for (let j = 0; j < L; j += 4) storeLanes(yr, j, L, st16(f32x4.div(loadLanes(yr, j, L), s), f16));
      memory.fill(at(yr, L), 0, (<usize>(t - L)) << 2);
    }
  }
}

export function causalSoftmaxBackward(count: i32, t: i32, y: usize, dy: usize, dx: usize, f16: bool): void {
  const per = softmaxRowsPerTask(t);
  const rows = count * t;
  for (let task = nextTask(); task * per < rows; task = nextTask()) {
    const end = min(rows, (task + 1) * per);
    for (let row = task * per; row < end; row++) {
      const L = row % t + 1;
      const L4 = L & ~3;
      const yr = at(y, row * t);
      const dyr = at(dy, row * t);
      const dxr = at(dx, row * t);
      let acc = f32x4.splat(0);
      for (let j = 0; j < L4; j += 4) acc = madd(v128.load(at(yr, j)), v128.load(at(dyr, j)), acc);
      let D = hsum(acc);
      for (let j = L4; j < L; j++) D += load<f32>(at(yr, j)) * load<f32>(at(dyr, j));
      const vD = f32x4.splat(D);
      for (let j = 0; j < L; j += 4) {
        storeLanes(dxr, j, L, st16(f32x4.mul(loadLanes(yr, j, L), f32x4.sub(loadLanes(dyr, j, L), vD)), f16));
      }
      memory.fill(at(dxr, L), 0, (<usize>(t - L)) << 2);
    }
  }
}

/** stats[2r] = max_j x_rj, stats[2r + 1] = S_r = Σ_j exp(x_rj − max); the caller finishes log(S) − (x_target − max). */
export function crossEntropyStats(rows: i32, v: i32, logits: usize, stats: usize): void {
  for (let r = nextTask(); r < rows; r = nextTask()) {
    const xr = at(logits, r * v);
    const mx = rowMax(xr, v);
    store<f32>(at(stats, 2 * r), mx);
    store<f32>(at(stats, 2 * r + 1), sumExp(xr, v, mx));
  }
}

/** Σ_j exp(x_j − mx) in expRow's order, without storing the terms. */
function sumExp(x: usize, L: i32, mx: f32): f32 {
  const L4 = L & ~3;
  const vm = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  for (let j = 0; j < L4; j += 4) acc = f32x4.add(acc, expf32x4(f32x4.sub(v128.load(at(x, j)), vm)));
  let s = hsum(acc);
  for (let j = L4; j < L; j++) s += expf(load<f32>(at(x, j)) - mx);
  return s;
}

/** dlogits = st((p − [j = target])·gradScale), p = exp(x − max)/S recomputed as the forward does. */
export function crossEntropyBackward(rows: i32, v: i32, logits: usize, targets: usize, gradScale: f32,
  dlogits: usize, f16: bool): void {
  const g = f32x4.splat(gradScale);
  for (let r = nextTask(); r < rows; r = nextTask()) {
    const xr = at(logits, r * v);
    const dr = at(dlogits, r * v);
    const mx = rowMax(xr, v);
    const s = f32x4.splat(expRow(xr, v, mx, dr)); // dlogits holds exp(x − max) for now (it may alias logits)
    const target = load<i32>(at(targets, r));
    for (let j = 0; j < v; j += 4) {
      let p = f32x4.div(loadLanes(dr, j, v), s);
      if (target >= j && target < j + 4) {
        const l = target - j;
        p = v128.bitselect(f32x4.sub(p, f32x4.splat(1)), p, i32x4.eq(i32x4(0, 1, 2, 3), i32x4.splat(l)));
      }
      storeLanes(dr, j, v, st16(f32x4.mul(p, g), f16));
    }
  }
}
