// Scalar entry points to the float64 math ports, so tests can compare them with Math.* bit for bit.
import { erf64, exp64, expm1_64, tanh64 } from './fdlibm';

/** which: 0 exp, 1 expm1, 2 tanh, 3 erf. */
export function mathProbe(which: i32, x: f64): f64 {
  if (which == 0) return exp64(x);
  if (which == 1) return expm1_64(x);
  if (which == 2) return tanh64(x);
  return erf64(x);
}
