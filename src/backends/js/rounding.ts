import { f16round } from '../f16.js';
import type { DType } from '../kernels.js';

/** How the js backend rounds: `r` to compute precision after every op, `st` to storage precision on write. */
export interface Rounding {
  readonly dtype: DType;
  readonly r: (x: number) => number;
  readonly st: (x: number) => number;
  /** Scratch accumulators in compute precision: storing into one rounds like `r`. */
  readonly Scratch: Float64ArrayConstructor | Float32ArrayConstructor;
}

const identity = (x: number): number => x;

export function roundingFor(dtype: DType): Rounding {
  switch (dtype) {
    case 'f64':
      return { dtype, r: identity, st: identity, Scratch: Float64Array };
    case 'f32':
      return { dtype, r: Math.fround, st: Math.fround, Scratch: Float32Array };
    case 'f16':
      // Values are already float32 when stored, so one f16round is a single correct rounding.
      return { dtype, r: Math.fround, st: f16round, Scratch: Float32Array };
  }
}
