import { checkTensorParallel, headDim, paddedVocabSize, rotaryDims, type NeoXConfig } from './config.js';

/**
 * The op list: every kernel one GPU (one TP rank) launches for one micro-batch, with exact shapes, FLOPs
 * and bytes moved. It is THE contract between the model and everything that times or executes it: the
 * workload builder places these ops on ranks and streams, the simulator times GEMM/BMM ops with a roofline
 * plus tile/wave quantization and every other kind by bytes / HBM bandwidth, and the trainer runs the same
 * sequence with real tensors.
 *
 * Conventions
 * - Shapes are per TP rank: column-parallel GEMMs split n, row-parallel GEMMs split k, attention splits
 *   the heads (batch = b·heads/TP), the logits split the vocabulary. Sum over ranks = the full model.
 * - `bytesRead`/`bytesWritten` are compulsory traffic at the op's dtype: each operand read once, each
 *   result written once (a GEMM's re-reads from tiling are the compute model's business).
 * - `flops` of a GEMM/BMM is 2·m·n·k·batch (multiply + add); other kinds count arithmetic per element (see
 *   FLOPS_PER_ELEMENT); matmul FLOPs alone reproduce Megatron's formula term by term (`term`).
 * - Ops are listed in launch order within each phase: forward, then recompute (what activation
 *   checkpointing re-runs right before the backward), then backward, then the optimizer `step`.
 * - `saves` names the tensors an op keeps for the backward pass (the same name = the same tensor, stored
 *   once); activation memory is their sum (activation-memory.ts).
 */
export type Phase = 'forward' | 'recompute' | 'backward' | 'step';
export type DType = 'fp16' | 'bf16' | 'fp32' | 'int64';

export type ComputeKind =
  | 'gemm' // weight matmul (cuBLAS GEMM)
  | 'bmm' // attention batched matmul (cuBLAS strided-batched)
  | 'elementwise' // bias adds, residual adds, GELU, rotary, copies, casts
  | 'layernorm'
  | 'softmax' // Megatron's fused scaled upper-triangular masked softmax
  | 'flash-attention' // FlashAttention-2 fused forward: QKᵀ, masked softmax, dropout and ·V in one kernel (flops = what it executes)
  | 'flash-attention-backward' // its fused backward, recomputing P from Q, K and the saved logsumexp
  | 'cross-entropy' // vocab-parallel cross-entropy pieces (fp32)
  | 'embedding' // row gather and its scatter-add backward
  | 'reduction' // bias gradients: sum over tokens
  | 'grad-accumulate' // PyTorch AccumulateGrad into param.grad (skipped on the first micro-batch of a step)
  | 'optimizer';

/** A tensor kept from the forward pass for the backward pass. */
export interface SavedTensor {
  name: string;
  bytes: number;
}

export interface ComputeOp {
  type: 'compute';
  /** HF-style module path plus the role, e.g. `attention.query_key_value.dgrad`. */
  name: string;
  kind: ComputeKind;
  phase: Phase;
  /** GEMM/BMM: C[m×n] = A[m×k]·B[k×n], `batch` independent products. Other kinds: m = elements, n = k = batch = 1. */
  m: number;
  n: number;
  k: number;
  batch: number;
  flops: number;
  bytesRead: number;
  bytesWritten: number;
  dtype: DType;
  /** CUDA kernels the op stands for (an unfused elementwise chain launches several). */
  kernels: number;
  /** The Megatron-formula term a matmul belongs to: dense GEMMs, attention BMMs, or the logit GEMMs. */
  term?: 'dense' | 'attention' | 'logits';
  saves: SavedTensor[];
}

/**
 * A point where the TP ranks synchronise: one collective over the tensor-parallel group. Megatron's TP
 * all-reduce, or with sequence parallelism (Korthikanti et al. 2022) the reduce-scatter that leaves a
 * tensor-parallel region and the all-gather that enters one.
 */
export type TpCollective = 'all-reduce' | 'reduce-scatter' | 'all-gather';

export interface CommOp {
  type: 'comm';
  name: string;
  kind: TpCollective;
  phase: Phase;
  group: 'tp';
  /** Message size on each rank; for a reduce-scatter or all-gather the whole (unsharded) tensor, as nccl-tests count it. */
  bytes: number;
  dtype: DType;
}

export type Op = ComputeOp | CommOp;

export type Recompute = 'none' | 'full' | 'selective';

export interface OpOptions {
  /** Tensor-parallel degree (1 = none). */
  tp: number;
  /** Sequences per micro-batch (b). */
  microBatch: number;
  /** Tokens per sequence; defaults to the model's seqLength. */
  seqLength?: number;
  /** gpt-neox `checkpoint-activations` = 'full' (per layer); 'selective' = Korthikanti et al.'s attention-core recompute. */
  recompute: Recompute;
  /** Dropout probabilities; the NeoX-20B run used 0, which launches no dropout kernels and keeps no masks. */
  attentionDropout?: number;
  hiddenDropout?: number;
  /** Activation/weight dtype of the run (NeoX-20B: fp16). */
  dtype?: 'fp16' | 'bf16';
  /**
   * Megatron sequence parallelism (`--sequence-parallel`, Korthikanti et al. 2022 §4.2.2; needs tp > 1): the
   * ops between the TP regions (LayerNorms, dropouts, residual and bias adds) run on s/tp tokens per rank.
   */
  sequenceParallel?: boolean;
}

/** Arithmetic per element for the non-matmul kinds (a convention; they are timed by bytes, not FLOPs). */
export const FLOPS_PER_ELEMENT = {
  add: 1,
  layernormForward: 8,
  layernormBackward: 14,
  softmaxForward: 6,
  softmaxBackward: 5,
  geluForward: 9,
  geluBackward: 14,
  crossEntropy: 1,
  adam: 12,
} as const;

export const BYTES: Record<DType, number> = { fp16: 2, bf16: 2, fp32: 4, int64: 8 };

/** Every size an op list needs, per TP rank. */
export interface Dims {
  tp: number;
  b: number;
  s: number;
  /** Tokens in the micro-batch, s·b. */
  tokens: number;
  /** Sequence parallelism is on (tp > 1). */
  sp: boolean;
  /** Tokens per rank in the regions outside the TP GEMMs: s·b/tp with sequence parallelism, s·b without. */
  spTokens: number;
  h: number;
  /** h / TP */
  hp: number;
  /** Attention heads on this rank. */
  heads: number;
  headDim: number;
  rotary: number;
  /** MLP width on this rank. */
  ffn: number;
  /** Vocabulary rows on this rank. */
  vocab: number;
  /** Elements of one score matrix set: b · heads · s · s. */
  scores: number;
  /** Bytes per activation element. */
  e: number;
  dtype: 'fp16' | 'bf16';
  attentionDropout: number;
  hiddenDropout: number;
}

export function opDims(cfg: NeoXConfig, opts: OpOptions): Dims {
  const tp = opts.tp;
  checkTensorParallel(cfg, tp);
  const s = opts.seqLength ?? cfg.seqLength;
  const b = opts.microBatch;
  const heads = cfg.numHeads / tp;
  const dtype = opts.dtype ?? 'fp16';
  const sp = opts.sequenceParallel === true && tp > 1;
  return {
    tp, b, s, tokens: s * b, sp, spTokens: sp ? (s * b) / tp : s * b, h: cfg.hiddenSize, hp: cfg.hiddenSize / tp, heads, headDim: headDim(cfg),
    rotary: rotaryDims(cfg), ffn: cfg.ffnHiddenSize / tp, vocab: paddedVocabSize(cfg, tp) / tp,
    scores: b * heads * s * s, e: BYTES[dtype], dtype,
    attentionDropout: opts.attentionDropout ?? 0, hiddenDropout: opts.hiddenDropout ?? 0,
  };
}

type Extra = Partial<Pick<ComputeOp, 'kernels' | 'term' | 'saves'>>;

/** A weight or attention matmul C[m×n] = A[m×k]·B[k×n] (× batch), reading A and B once, writing C once. */
export function matmul(name: string, kind: 'gemm' | 'bmm', phase: Phase, m: number, n: number, k: number, batch: number, dtype: DType, extra: Extra = {}): ComputeOp {
  const e = BYTES[dtype];
  return {
    type: 'compute', name, kind, phase, m, n, k, batch,
    flops: 2 * m * n * k * batch,
    bytesRead: e * batch * (m * k + k * n),
    bytesWritten: e * batch * m * n,
    dtype, kernels: 1, saves: [], ...extra,
  };
}

/** A memory-bound op over `elements` elements with the given traffic. */
export function memoryOp(
  name: string, kind: Exclude<ComputeKind, 'gemm' | 'bmm'>, phase: Phase, dtype: DType, elements: number,
  flops: number, bytesRead: number, bytesWritten: number, extra: Extra = {},
): ComputeOp {
  return {
    type: 'compute', name, kind, phase, m: elements, n: 1, k: 1, batch: 1, flops, bytesRead, bytesWritten,
    dtype, kernels: 1, saves: [], ...extra,
  };
}

export function allReduce(name: string, phase: Phase, bytes: number, dtype: DType = 'fp16', kind: TpCollective = 'all-reduce'): CommOp {
  return { type: 'comm', name, kind, phase, group: 'tp', bytes, dtype };
}

export function isCompute(op: Op): op is ComputeOp {
  return op.type === 'compute';
}
