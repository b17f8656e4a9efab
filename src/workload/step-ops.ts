import { memoryOp, type ComputeOp } from '../model/ops.js';

/**
 * The memory-bound kernels DeepSpeed runs around gradient reduction and the optimizer step, as ops for the
 * compute model (which times them by bytes / HBM bandwidth). Element sizes: fp16 gradients 2 B, fp32 4 B.
 * The Adam update itself is the model's `adamStepOp`.
 */

/** A flattening copy: torch.cat / _flatten_dense_tensors of `elements` gradient elements (fp16 → `outBytes`). */
export function flattenOp(name: string, elements: number, tensors: number, outBytes = 2): ComputeOp {
  return memoryOp(name, 'elementwise', 'step', outBytes === 4 ? 'fp32' : 'fp16', elements, 0, 2 * elements, outBytes * elements, { kernels: Math.max(1, tensors) });
}

/** In-place scaling of a gradient buffer (ZeRO post-scale by 1/DP; unscale-and-clip by 1/combined scale). */
export function scaleOp(name: string, elements: number, bytesPerElement: number): ComputeOp {
  return memoryOp(name, 'elementwise', 'step', bytesPerElement === 4 ? 'fp32' : 'fp16', elements, elements, bytesPerElement * elements, bytesPerElement * elements);
}

/**
 * DeepSpeed CheckOverflow.has_overflow_serial: for every gradient tensor `float(x.float().sum())` — a cast
 * to fp32, a sum, and a device-to-host read per tensor (2 kernels per tensor).
 */
export function overflowScanOp(elements: number, tensors: number, gradBytes = 2): ComputeOp {
  return memoryOp('optimizer.overflow-check', 'reduction', 'step', 'fp32', elements, 2 * elements, (gradBytes + 4) * elements, 4 * elements + 4 * tensors, {
    kernels: 2 * Math.max(1, tensors),
  });
}

/** DeepSpeed get_grad_norm: per tensor `grad.float().norm(2)` and its square summed (fp16 grads read, fp32 cast). */
export function gradNormOp(name: string, elements: number, tensors: number, gradBytes = 2): ComputeOp {
  return memoryOp(name, 'reduction', 'step', 'fp32', elements, 2 * elements, (gradBytes + 4) * elements, (gradBytes === 4 ? 0 : 4) * elements + 4 * tensors, {
    kernels: (gradBytes === 4 ? 1 : 2) * Math.max(1, tensors),
  });
}
