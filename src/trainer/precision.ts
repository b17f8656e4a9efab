import type { DType, Kernels } from '../backends/kernels.js';
import { InputError } from '../common/errors.js';

/**
 * The three precision modes and the backends each one uses (docs/numerics.md):
 * fp64 — everything float64; fp32 — everything float32;
 * fp16 — mixed precision as the 20B run: the model (parameters, activations, gradients) in binary16
 * storage with float32 math inside each kernel; fp32 master weights, Adam states and the loss.
 */
export type Precision = 'fp64' | 'fp32' | 'fp16';
export const PRECISIONS: readonly Precision[] = ['fp64', 'fp32', 'fp16'];

export interface PrecisionBackends {
  /** Computes the model forward and backward. */
  model: Kernels;
  /** Master weights, optimizer, loss and unscaling (the model backend itself except in fp16). */
  master: Kernels;
}

export function backendsFor(precision: Precision, backend: (dtype: DType) => Kernels): PrecisionBackends {
  switch (precision) {
    case 'fp64': {
      const k = backend('f64');
      return { model: k, master: k };
    }
    case 'fp32': {
      const k = backend('f32');
      return { model: k, master: k };
    }
    case 'fp16':
      return { model: backend('f16'), master: backend('f32') };
    default:
      throw InputError.field('', 'precision', PRECISIONS.join(' | '), precision);
  }
}
