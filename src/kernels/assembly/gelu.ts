// GELU forward and backward (Kernels.gelu / geluBackward), tanh and erf forms, each float32 op rounded in the
// reference's order; tanh, erf and exp are the float64 fdlibm ports, rounded once to float32. The constants
// come from the caller already rounded to float32, so both paths use the very same values.
import { erf64, expf, tanh64 } from './fdlibm';
import { round16 } from './fp16';
import { rowsPerTask } from './elementwise';
import { at } from './simd';
import { nextTask } from './tasks';

const HALF: f32 = 0.5;
const ONE: f32 = 1.0;

// @ts-ignore: decorator
@inline function input(x: usize, bias: usize, r: i32, j: i32, cols: i32): f32 {
  const v = load<f32>(at(x, r * cols + j));
  return bias != 0 ? v + load<f32>(at(bias, j)) : v;
}

/** y = st((u·0.5)·(1 + tanh((k·u)·(1 + (c·u)·u)))) or st((u·0.5)·(1 + erf(u·√½))), u = x + bias. */
export function geluForward(rows: i32, cols: i32, x: usize, bias: usize, y: usize, erfForm: bool,
  k: f32, c: f32, sqrtHalf: f32, f16: bool): void {
  const per = rowsPerTask(cols);
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      for (let j = 0; j < cols; j++) {
        const u = input(x, bias, r, j, cols);
        const w: f32 = erfForm
          ? ONE + <f32>erf64(<f64>(u * sqrtHalf))
          : ONE + <f32>tanh64(<f64>((k * u) * (ONE + (c * u) * u)));
        const v = (u * HALF) * w;
        store<f32>(at(y, r * cols + j), f16 ? round16(v) : v);
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
  for (let t = nextTask(); t * per < rows; t = nextTask()) {
    const end = min(rows, (t + 1) * per);
    for (let r = t * per; r < end; r++) {
      for (let j = 0; j < cols; j++) {
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
        const v = load<f32>(at(dy, r * cols + j)) * d;
        store<f32>(o, f16 ? round16(v) : v);
      }
    }
  }
}
