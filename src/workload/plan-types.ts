import type { Recompute } from '../model/ops.js';

/**
 * A parallel plan: how one training step of a model is spread over GPUs. Field meanings follow gpt-neox /
 * DeepSpeed (configs/20B.yml, DeeperSpeed 0.3.15); `validatePlan` (plan.ts) checks every constraint.
 */

/** The three axes of DeepSpeed's PipeModelDataParallelTopology. */
export type Axis = 'pipe' | 'data' | 'model';

export type PipelineSchedule = '1f1b' | 'gpipe' | 'interleaved';

/**
 * How pipeline stages exchange activations and gradients:
 * - 'sync-broadcast': DeeperSpeed 0.3.15 pipe/p2p.py — `dist.broadcast` in a 2-rank group with
 *   async_op=False, so both ranks' compute waits for the transfer (what gpt-neox 2022 ran);
 * - 'async': Megatron-style isend/irecv on a separate stream; only the consumer waits for the data.
 */
export type P2pMode = 'sync-broadcast' | 'async';

export type ZeroStage = 0 | 1 | 2 | 3;

export type Precision = 'fp16' | 'bf16';

export interface Plan {
  /** Tensor (model) parallel degree. */
  tp: number;
  /** Pipeline parallel degree (number of physical stages). */
  pp: number;
  /** Data parallel degree. */
  dp: number;
  /** Sequences per micro-batch per GPU (train_micro_batch_size_per_gpu). */
  microBatch: number;
  /** Micro-batches per optimizer step (gradient_accumulation_steps). */
  gradAccumSteps: number;
  /** Tokens per sequence (defaults to the model's seq_length). */
  seqLength: number;
  zeroStage: ZeroStage;
  recompute: Recompute;
  schedule: PipelineSchedule;
  /** Model chunks per physical stage for the interleaved schedule (1 otherwise). */
  virtualStages: number;
  /** Axes from outermost (slowest-varying rank index) to innermost; gpt-neox: pipe, data, model. */
  rankOrder: readonly [Axis, Axis, Axis];
  /** DeepSpeed zero_optimization.reduce_bucket_size, elements. */
  reduceBucketSize: number;
  /** DeepSpeed zero_optimization.allgather_bucket_size, elements. */
  allgatherBucketSize: number;
  /** DeepSpeed zero_optimization.overlap_comm: gradient reduction runs on its own stream during backward. */
  overlapComm: boolean;
  precision: Precision;
  p2p: P2pMode;
  /** DeepSpeed pipe_partition_method (gpt-neox default "type:transformer|mlp"). */
  partitionMethod: string;
  /** Dropout probabilities (NeoX-20B: 0, which launches no dropout kernels and keeps no masks). */
  hiddenDropout: number;
  attentionDropout: number;
  /**
   * Accept a pipeline degree that does not divide the layers (1F1B / GPipe): stages then get DeepSpeed's
   * uneven `partition_balanced` cut of gpt-neox's layer list (`partitionMethod`), which can leave trailing
   * stages with no layer at all. Off by default: an uneven pipeline is usually a mistake.
   */
  unevenPipeline?: boolean;
  /**
   * Megatron's scatter/gather optimisation (Narayanan et al. SC'21 §4.1): with TP > 1 each TP rank sends only
   * 1/TP of a pipeline message (activation or its gradient) to its peer on the next stage, and the receivers
   * all-gather the pieces over their TP group. Off by default (gpt-neox / DeeperSpeed send whole messages).
   */
  ppScatterGather?: boolean;
  /**
   * Megatron sequence parallelism (Korthikanti et al. 2022, `--sequence-parallel`; needs tp > 1 and s divisible
   * by tp): LayerNorms, dropouts and residual/bias adds run on s/tp tokens per TP rank, the TP all-reduces
   * become reduce-scatters and all-gathers, pipeline messages are the rank's s/tp shard (so `ppScatterGather`
   * does not apply), and LayerNorm (and row-parallel bias) gradients are all-reduced over TP before the step.
   * Off by default (gpt-neox 2022 could not run it).
   */
  sequenceParallel?: boolean;
}

/** The sizes a plan implies. */
export function planGpus(plan: Pick<Plan, 'tp' | 'pp' | 'dp'>): number {
  return plan.tp * plan.pp * plan.dp;
}

/** Sequences per optimizer step over all data-parallel replicas. */
export function globalBatch(plan: Pick<Plan, 'microBatch' | 'gradAccumSteps' | 'dp'>): number {
  return plan.microBatch * plan.gradAccumSteps * plan.dp;
}
