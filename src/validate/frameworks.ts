import type { NeoXConfig } from '../model/config.js';
import { getPreset } from '../model/presets.js';
import { NEOX_20B_PLAN } from '../sim/run/run-settings.js';
import type { Plan } from '../workload/plan-types.js';
import type { PublishedRun } from './runs-file.js';

/**
 * What a training framework fixes that a published run does not state: the architecture of its GPT model,
 * how it schedules and communicates, and the FLOP convention it reports TFLOP/s with. Each choice names its
 * source; where the source leaves a choice open, the run's `assumptions` say what was assumed.
 */
export type FlopConvention = 'megatron' | 'neoxLogger2022';

export interface Framework {
  id: 'megatron-lm' | 'gpt-neox';
  /** The model of a run: the framework's architecture at the run's shape. */
  model(run: PublishedRun): NeoXConfig;
  /** Plan fields beyond the run's own TP/PP/DP, batch, ZeRO, recompute and precision, and what was assumed. */
  plan(run: PublishedRun): { fields: Partial<Plan>; assumptions: string[] };
  /** The formula behind the run's reported TFLOP/s per GPU. */
  convention: FlopConvention;
  conventionName: string;
}

/** PyTorch DistributedDataParallel bucket_cap_mb = 25 (torch.nn.parallel docs): fp16 gradient elements per bucket. */
const TORCH_DDP_BUCKET_ELEMENTS = (25 * 2 ** 20) / 2;

/**
 * Megatron-LM as the SC'21 paper ran it (Narayanan et al., arXiv 2104.04473; NVIDIA/Megatron-LM
 * examples/sc21 at de7dc40f88, megatron/arguments.py defaults):
 * - GPT: learned absolute position embeddings (max-position-embeddings = seq length in the scripts), word
 *   embeddings tied to the output layer, pre-LayerNorm sequential residual, fused bias-GELU (default
 *   --bias-gelu-fusion, the tanh form of megatron/model/fused_bias_gelu.py), hidden and attention dropout
 *   0.1 (defaults), LayerNorm eps 1e-5; vocabulary V = 51,200 (§5.1; 128 × TP divides it for TP ≤ 8, so
 *   padding adds no rows);
 * - pipeline: batched isend/irecv (async), the scatter/gather optimisation on (§4.1, "enabled" in §5.1),
 *   interleaved 1F1B with the run's virtual stages, Megatron's 1F1B otherwise; ranks ordered pipe, data,
 *   model (mpu.initialize_model_parallel: TP ranks adjacent, pipeline groups strided by world / PP);
 * - data parallel: "DDP impl=torch" overlaps the all-reduce of 25 MB buckets with the last micro-batch's
 *   backward (Megatron wraps the other micro-batches in no_sync); "impl=local" all-reduces the whole
 *   gradient after the backward;
 * - TFLOP/s: eq. (3), 96·B·s·l·h²·(1 + s/6h + V/16lh) per iteration with full recompute.
 */
const MEGATRON: Framework = {
  id: 'megatron-lm',
  convention: 'megatron',
  conventionName: "Megatron eq. (3) with recompute",
  model(run) {
    const m = run.model;
    return {
      name: m.name, numLayers: m.layers, hiddenSize: m.hidden, numHeads: m.heads, ffnHiddenSize: m.ffnHidden,
      vocabSize: m.vocab, makeVocabSizeDivisibleBy: 128, seqLength: m.seqLength, maxPositionEmbeddings: m.seqLength,
      positionEmbedding: 'learned', rotaryPct: 0, rotaryEmbBase: 10000, layernormEpsilon: 1e-5, parallelResidual: false,
      activation: 'gelu-tanh', tieWordEmbeddings: true, initMethod: 'normal', outputLayerInitMethod: 'scaled_normal', initMethodStd: 0.02,
    };
  },
  plan(run) {
    const { tp, pp, vp } = run.parallelism;
    const assumptions: string[] = [];
    const fields: Partial<Plan> = {
      p2p: 'async', ppScatterGather: pp > 1 && tp > 1, rankOrder: ['pipe', 'data', 'model'], hiddenDropout: 0.1, attentionDropout: 0.1,
    };
    if (pp > 1 && vp !== null && vp > 1) Object.assign(fields, { schedule: 'interleaved', virtualStages: vp });
    else if (pp > 1) {
      fields.schedule = '1f1b';
      assumptions.push(`no virtual stages given (vp null): Megatron's non-interleaved 1F1B, ${run.model.layers / pp} layers per stage`);
    }
    if (/impl\s*=\s*torch/i.test(run.notes)) {
      Object.assign(fields, { overlapComm: true, reduceBucketSize: TORCH_DDP_BUCKET_ELEMENTS });
    } else {
      fields.overlapComm = false;
      // With one replica there is no gradient all-reduce, so which DDP ran does not matter.
      if (!/impl\s*=\s*local/i.test(run.notes) && run.parallelism.dp > 1) assumptions.push('DDP implementation not stated: Megatron\'s local DDP (one gradient all-reduce after the backward)');
    }
    return { fields, assumptions };
  },
};

/**
 * GPT-NeoX as the 20B run used it (Black et al. 2022; configs/20B.yml; DeeperSpeed 0.3.15): the NeoX
 * architecture (the neox-20b preset: rotary on 25% of head dims, parallel residual, untied embeddings,
 * fused tanh bias-GELU, no dropout), the file's vocab taken as the embedding rows, DeepSpeed's 1F1B
 * TrainSchedule with synchronous broadcasts, its uneven partition, and configs/20B.yml's ZeRO buckets and
 * overlap_comm. TFLOP/s: the 2022 logger, 6·P + 60·s·h·L per token (P as gpt-neox prints it).
 */
const GPT_NEOX: Framework = {
  id: 'gpt-neox',
  convention: 'neoxLogger2022',
  conventionName: 'gpt-neox 2022 logger (6·P + 60·s·h·L per token)',
  model(run) {
    const m = run.model;
    const base = getPreset('neox-20b');
    return {
      ...base, name: m.name, numLayers: m.layers, hiddenSize: m.hidden, numHeads: m.heads, ffnHiddenSize: m.ffnHidden,
      vocabSize: Math.min(base.vocabSize, m.vocab), paddedVocab: m.vocab, seqLength: m.seqLength, maxPositionEmbeddings: m.seqLength,
    };
  },
  plan() {
    const { reduceBucketSize, allgatherBucketSize, overlapComm } = NEOX_20B_PLAN;
    return {
      fields: { p2p: 'sync-broadcast', schedule: '1f1b', unevenPipeline: true, reduceBucketSize, allgatherBucketSize, overlapComm, rankOrder: ['pipe', 'data', 'model'] },
      assumptions: ['ZeRO bucket sizes (1.26e9 elements) and overlap_comm from configs/20B.yml'],
    };
  },
};

/** The framework a run names (software.framework), or undefined if neox-sim does not know it. */
export function frameworkOf(run: PublishedRun): Framework | undefined {
  const name = run.framework;
  if (/gpt-?neox/i.test(name)) return GPT_NEOX;
  if (/megatron/i.test(name)) return MEGATRON;
  return undefined;
}
