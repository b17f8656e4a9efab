import type { GpuSpec } from '../../hardware/specs.js';
import type { ComputeOp, DType } from '../../model/ops.js';
import { gemmTiming, type GemmTiming } from './gemm.js';

/** The fields of an op the compute model reads (a model `ComputeOp` has them all). */
export type TimedOp = Pick<ComputeOp, 'kind' | 'm' | 'n' | 'k' | 'batch' | 'bytesRead' | 'bytesWritten' | 'dtype'> & Partial<Pick<ComputeOp, 'flops'>>;

export interface OpTiming {
  /** Seconds on one GPU. */
  time: number;
  bound: 'compute' | 'memory';
  /** Matmuls only: tile, waves and the two roofs. */
  gemm?: GemmTiming;
}

/**
 * How long a kernel takes on one GPU.
 * - GEMMs and attention BMMs: roofline with tile and wave quantization and the calibrated GEMM efficiency
 *   (gemm.ts). Attention BMMs with K = head_dim (96 for NeoX-20B) carry little math per byte, so the
 *   memory roof usually binds: that is their lower efficiency, from the mechanism rather than a factor.
 * - FlashAttention's fused kernels: roofline on the tensor cores, the op's FLOPs over (peak × the profile's
 *   FlashAttention-2 efficiency, forward or backward), or its bytes over the HBM rate if slower. The
 *   efficiency is a whole-kernel figure from the FA2 paper (softmax, masking and tiling included), so no
 *   tile or wave quantization is added on top.
 * - Everything else (LayerNorm, softmax, GELU, adds, copies, cross-entropy, embedding, optimizer):
 *   bytes / (HBM bandwidth × streaming efficiency).
 * Constants are the GPU profile's, each with its source. Kernel launch gaps are not modelled: gpt-neox
 * launches asynchronously and its kernels are long, so the CPU side stays ahead of the GPU.
 * Timings are cached per shape: a training step repeats a few dozen distinct shapes many thousands of times.
 */
export class ComputeModel {
  private readonly cache = new Map<string, OpTiming>();
  private readonly hbmRate: number;

  constructor(readonly gpu: GpuSpec) {
    this.hbmRate = gpu.hbmBandwidth * gpu.calibration.hbmEfficiency;
  }

  /** Seconds the op takes. */
  time(op: TimedOp): number {
    return this.timing(op).time;
  }

  timing(op: TimedOp): OpTiming {
    const key = `${op.kind}|${op.m}|${op.n}|${op.k}|${op.batch}|${op.bytesRead}|${op.bytesWritten}|${op.dtype}|${op.flops ?? ''}`;
    let t = this.cache.get(key);
    if (!t) this.cache.set(key, (t = this.compute(op)));
    return t;
  }

  /** Tensor-core peak a matmul of this dtype runs at (fp32 matmuls use TF32, PyTorch 1.10's default on Ampere). */
  matmulPeak(dtype: DType): number {
    const t = this.gpu.tensorFlops;
    const peak = dtype === 'fp16' ? t.fp16 : dtype === 'bf16' ? t.bf16 : dtype === 'fp32' ? t.tf32 ?? this.gpu.vectorFlops.fp32 : undefined;
    if (peak === undefined) throw new RangeError(`${this.gpu.id}: no tensor-core rate for ${dtype} matmuls`);
    return peak;
  }

  private compute(op: TimedOp): OpTiming {
    const bytes = op.bytesRead + op.bytesWritten;
    if (!(bytes >= 0) || !(op.m >= 0 && op.n >= 0 && op.k >= 0 && op.batch >= 0)) {
      throw new RangeError(`op shape must be non-negative, got ${op.m}×${op.n}×${op.k}×${op.batch} and ${bytes} bytes`);
    }
    if (op.kind === 'gemm' || op.kind === 'bmm') {
      const gemm = gemmTiming(this.gpu, { m: op.m, n: op.n, k: op.k, batch: op.batch, bytes, peak: this.matmulPeak(op.dtype) });
      return { time: gemm.time, bound: gemm.bound, gemm };
    }
    if (op.kind === 'flash-attention' || op.kind === 'flash-attention-backward') {
      const forward = op.kind === 'flash-attention';
      const efficiency = forward ? this.gpu.calibration.flashAttentionForward : this.gpu.calibration.flashAttentionBackward;
      if (efficiency === undefined) {
        throw new RangeError(`${this.gpu.id}: the GPU profile has no calibration.flashAttention${forward ? 'Forward' : 'Backward'} efficiency`);
      }
      if (op.flops === undefined || !(op.flops >= 0)) throw new RangeError(`a ${op.kind} op needs its FLOPs, got ${op.flops}`);
      const computeTime = op.flops / (this.matmulPeak(op.dtype) * efficiency);
      const memoryTime = bytes / this.hbmRate;
      return computeTime >= memoryTime ? { time: computeTime, bound: 'compute' } : { time: memoryTime, bound: 'memory' };
    }
    return { time: bytes / this.hbmRate, bound: 'memory' };
  }
}
