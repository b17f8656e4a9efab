// GELU forward and backward (Kernels.gelu / geluBackward), tanh and erf forms, each float32 op rounded in the
// reference's order; tanh, erf and exp are the float64 fdlibm ports, rounded once to float32. Both forms run
// four lanes at a time (fdlibm-simd.ts, erf-simd.ts: the same bits), a row's last cols % 4 elements one at a
// time. The constants come from the caller already rounded to float32, so both paths use the very same values.
import { erf64, expf, tanh64 } from './fdlibm';
import { round16If, st16 } from './fp16';
import { erff32x4 } from './erf-simd';
import { expf32x4, tanhf32x4 } from './fdlibm-simd';
import { rowsPerTask } from './elementwise';
import { at } from './simd';
import { nextTask } from './tasks';

const HALF: f32 = 0.5;
const ONE: f32 = 1.0;

/** Four lanes of u = x + bias (or x). */
// @ts-ignore: decorator
@inline function inputs(x: usize, bias: usize, r: i32, j: i32, cols: i32): v128 {
  const v = v128.load(at(x, r * cols + j));
  return bias != 0 ? f32x4.add(v, v128.load(at(bias, j))) : v;
}

// @ts-ignore: decorator
@inline function input(x: usize, bias: usize, r: i32, j: i32, cols: i32): f32 {
  const v = load<f32>(at(x, r * cols + j));
  return bias != 0 ? v + load<f32>(at(bias, j)) : v;
}

/** y = st((u·0.5)·(1 + tanh((k·u)·(1 + (c·u)·u)))) or st((u·0.5)·(1 + erf(u·√½))), u = x + bias. */
export function geluForward(rows: i32, cols: i32, x: usize, bias: usize, y: usize, erfForm: bool,
  k: f32, c: f32, sqrtHalf: f32, f16: bool): void {
  const per = rowsPerTask(cols);
  const vk = f32x4.splat(k), vc = f32x4.splat(c), half = f32x4.splat(HALF), one = f32x4.splat(ONE), vs = f32x4.splat(sqrtHalf);
  const vecEnd = cols & ~3;
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      for (let j = 0; j < vecEnd; j += 4) {
        const u = inputs(x, bias, r, j, cols);
        let g: v128; // an if, not ?: (AssemblyScript may compile that to a select, which computes both)
        if (erfForm) g = erff32x4(f32x4.mul(u, vs));
        else g = tanhf32x4(f32x4.mul(f32x4.mul(vk, u), f32x4.add(one, f32x4.mul(f32x4.mul(vc, u), u))));
        v128.store(at(y, r * cols + j), st16(f32x4.mul(f32x4.mul(u, half), f32x4.add(one, g)), f16));
      }
      for (let j = vecEnd; j < cols; j++) {
        const u = input(x, bias, r, j, cols);
        const w: f32 = erfForm
          ? ONE + <f32>erf64(<f64>(u * sqrtHalf))
          : ONE + <f32>tanh64(<f64>((k * u) * (ONE + (c * u) * u)));
        store<f32>(at(y, r * cols + j), round16If((u * HALF) * w, f16));
      }
    }
  }
}

/**
 * dx = st(dy · gelu'(u)). tanh: th = tanh((k·u)·(1 + (c·u)·u)),
 * gelu' = 0.5·(1 + th) + ((0.5·u)·(1 − th·th))·(k + (k3c·u)·u). erf: gelu' = 0.5·(1 + erf(u·√½)) + u·(exp((−0.5·u)·u)·invSqrt2Pi).
 */
export function geluBackward(rows: i32, cols: i32, x: usize, bias: usize, dy: usize, dx: usize, erfForm: bool,
  k: f32, c: f32, k3c: f32, sqrtHalf: f32, invSqrt2Pi: f32, f16: bool): void {
  const per = rowsPerTask(cols);
  const vk = f32x4.splat(k), vc = f32x4.splat(c), vk3c = f32x4.splat(k3c), half = f32x4.splat(HALF), one = f32x4.splat(ONE);
  const vs = f32x4.splat(sqrtHalf), vpdf = f32x4.splat(invSqrt2Pi), minusHalf = f32x4.splat(-HALF);
  const vecEnd = cols & ~3;
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      for (let j = 0; j < vecEnd; j += 4) {
        const u = inputs(x, bias, r, j, cols);
        let d: v128;
        if (erfForm) {
          const cdf = f32x4.mul(half, f32x4.add(one, erff32x4(f32x4.mul(u, vs))));
          const pdf = f32x4.mul(expf32x4(f32x4.mul(f32x4.mul(minusHalf, u), u)), vpdf);
          d = f32x4.add(cdf, f32x4.mul(u, pdf));
        } else {
          const th = tanhf32x4(f32x4.mul(f32x4.mul(vk, u), f32x4.add(one, f32x4.mul(f32x4.mul(vc, u), u))));
          const left = f32x4.mul(half, f32x4.add(one, th));
          const sech2 = f32x4.sub(one, f32x4.mul(th, th));
          const slope = f32x4.add(vk, f32x4.mul(f32x4.mul(vk3c, u), u));
          d = f32x4.add(left, f32x4.mul(f32x4.mul(f32x4.mul(half, u), sech2), slope));
        }
        const o = at(dx, r * cols + j);
        v128.store(o, st16(f32x4.mul(v128.load(at(dy, r * cols + j)), d), f16));
      }
      for (let j = vecEnd; j < cols; j++) {
        const u = input(x, bias, r, j, cols);
        let d: f32;
        if (erfForm) {
          const cdf = HALF * (ONE + <f32>erf64(<f64>(u * sqrtHalf)));
          const pdf = expf((-HALF * u) * u) * invSqrt2Pi;
          d = cdf + u * pdf;
        } else {
          const th = <f32>tanh64(<f64>((k * u) * (ONE + (c * u) * u)));
          const left = HALF * (ONE + th);
          const sech2 = ONE - th * th;
          const slope = k + (k3c * u) * u;
          d = left + ((HALF * u) * sech2) * slope;
        }
        const o = at(dx, r * cols + j);
        store<f32>(o, round16If(load<f32>(at(dy, r * cols + j)) * d, f16));
      }
    }
  }
}
