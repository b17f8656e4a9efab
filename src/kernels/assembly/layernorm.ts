// LayerNorm forward and backward in the order of Kernels.layerNorm / layerNormBackward. The row sums (which
// the contract lets us reorder) are lane-blocked: element j < n - n%4 goes to lane j mod 4, the lanes are
// combined (l0 + l1) + (l2 + l3), then the last n%4 elements are added in order. Everything else is the
// reference's own sequence of rounded float32 ops.
import { accumulateInto, rowsPerTask, COLS_PER_TASK } from './elementwise';
import { st16 } from './fp16';
import { at, hsum, loadLanes, madd, storeLanes } from './simd';
import { nextTask } from './tasks';

/** Σ_j x_j over one row. */
// @ts-ignore: decorator
@inline function rowSum(x: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  for (let j = 0; j < n4; j += 4) acc = f32x4.add(acc, v128.load(at(x, j)));
  let s = hsum(acc);
  for (let j = n4; j < n; j++) s += load<f32>(at(x, j));
  return s;
}

export function layerNormForward(rows: i32, n: i32, x: usize, gamma: usize, beta: usize, eps: f32,
  y: usize, mean: usize, rstd: usize, f16: bool): void {
  const per = rowsPerTask(n);
  const n4 = n & ~3;
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      const xr = at(x, r * n);
      const yr = at(y, r * n);
      const mu = rowSum(xr, n) / <f32>n;
      const vmu = f32x4.splat(mu);
      let acc = f32x4.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const d = f32x4.sub(v128.load(at(xr, j)), vmu);
        acc = madd(d, d, acc);
      }
      let q = hsum(acc);
      for (let j = n4; j < n; j++) {
        const d = load<f32>(at(xr, j)) - mu;
        q += d * d;
      }
      const rs: f32 = <f32>1.0 / Mathf.sqrt(q / <f32>n + eps);
      store<f32>(at(mean, r), mu);
      store<f32>(at(rstd, r), rs);
      const vrs = f32x4.splat(rs);
      for (let j = 0; j < n; j += 4) {
        const xh = f32x4.mul(f32x4.sub(loadLanes(xr, j, n), vmu), vrs);
        storeLanes(yr, j, n, st16(f32x4.add(f32x4.mul(xh, loadLanes(gamma, j, n)), loadLanes(beta, j, n)), f16));
      }
    }
  }
}

/** dx of Kernels.layerNormBackward (row tasks). */
export function layerNormBackwardDx(rows: i32, n: i32, x: usize, gamma: usize, mean: usize, rstd: usize,
  dy: usize, dx: usize, accumulate: bool, f16: bool): void {
  const per = rowsPerTask(n);
  const n4 = n & ~3;
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      const xr = at(x, r * n);
      const dyr = at(dy, r * n);
      const dxr = at(dx, r * n);
      const mu = load<f32>(at(mean, r));
      const rs = load<f32>(at(rstd, r));
      const vmu = f32x4.splat(mu);
      const vrs = f32x4.splat(rs);
      let accA = f32x4.splat(0), accB = accA;
      for (let j = 0; j < n4; j += 4) {
        const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), vmu), vrs);
        const g = f32x4.mul(v128.load(at(dyr, j)), v128.load(at(gamma, j)));
        accA = f32x4.add(accA, g);
        accB = madd(g, xh, accB);
      }
      let A = hsum(accA), B = hsum(accB);
      for (let j = n4; j < n; j++) {
        const xh = (load<f32>(at(xr, j)) - mu) * rs;
        const g = load<f32>(at(dyr, j)) * load<f32>(at(gamma, j));
        A += g;
        B += g * xh;
      }
      const mA = f32x4.splat(A / <f32>n);
      const mB = f32x4.splat(B / <f32>n);
      for (let j = 0; j < n; j += 4) {
        const xh = f32x4.mul(f32x4.sub(loadLanes(xr, j, n), vmu), vrs);
        const g = f32x4.mul(loadLanes(dyr, j, n), loadLanes(gamma, j, n));
        let v = st16(f32x4.mul(f32x4.sub(f32x4.sub(g, mA), f32x4.mul(xh, mB)), vrs), f16);
        if (accumulate) v = st16(f32x4.add(loadLanes(dxr, j, n), v), f16);
        storeLanes(dxr, j, n, v);
      }
    }
  }
}

/**
 * dgamma[j] += st(Σ_rows dy·xh), dbeta[j] += st(Σ_rows dy) (column tasks of 16 columns; rows ascending),
 * with xh recomputed from mean and rstd exactly as the forward computed it.
 */
export function layerNormBackwardParams(rows: i32, n: i32, x: usize, mean: usize, rstd: usize, dy: usize,
  dgamma: usize, dbeta: usize, f16: bool): void {
  for (let t = nextTask(); t * COLS_PER_TASK < n; t = nextTask()) {
    const j0 = t * COLS_PER_TASK;
    let g0 = f32x4.splat(0), g1 = g0, g2 = g0, g3 = g0, b0 = g0, b1 = g0, b2 = g0, b3 = g0;
    for (let r = 0; r < rows; r++) {
      const xr = at(x, r * n);
      const dyr = at(dy, r * n);
      const vmu = f32x4.splat(load<f32>(at(mean, r)));
      const vrs = f32x4.splat(load<f32>(at(rstd, r)));
      let d = loadLanes(dyr, j0, n);
      g0 = madd(d, f32x4.mul(f32x4.sub(loadLanes(xr, j0, n), vmu), vrs), g0); b0 = f32x4.add(b0, d);
      d = loadLanes(dyr, j0 + 4, n);
      g1 = madd(d, f32x4.mul(f32x4.sub(loadLanes(xr, j0 + 4, n), vmu), vrs), g1); b1 = f32x4.add(b1, d);
      d = loadLanes(dyr, j0 + 8, n);
      g2 = madd(d, f32x4.mul(f32x4.sub(loadLanes(xr, j0 + 8, n), vmu), vrs), g2); b2 = f32x4.add(b2, d);
      d = loadLanes(dyr, j0 + 12, n);
      g3 = madd(d, f32x4.mul(f32x4.sub(loadLanes(xr, j0 + 12, n), vmu), vrs), g3); b3 = f32x4.add(b3, d);
    }
    accumulateInto(dgamma, j0, n, g0, f16); accumulateInto(dgamma, j0 + 4, n, g1, f16);
    accumulateInto(dgamma, j0 + 8, n, g2, f16); accumulateInto(dgamma, j0 + 12, n, g3, f16);
    accumulateInto(dbeta, j0, n, b0, f16); accumulateInto(dbeta, j0 + 4, n, b1, f16);
    accumulateInto(dbeta, j0 + 8, n, b2, f16); accumulateInto(dbeta, j0 + 12, n, b3, f16);
  }
}
