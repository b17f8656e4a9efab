import { korthikantiActivationBytes, layerActivationBytes, type LayerActivations } from './activation-memory.js';
import { checkTensorParallel, headDim, paddedVocabSize, rotaryDims, type NeoXConfig } from './config.js';
import { embeddingOps } from './embedding-ops.js';
import { megatronFlops, neoxLogger2022FlopsPerToken, opListFlops, sixNFlopsPerToken, type FlopTerms } from './flops.js';
import { headOps } from './head-ops.js';
import { layerOps } from './layer-ops.js';
import type { Op, Recompute } from './ops.js';
import { countParams, neoxPrintedParams, paramTensors, perRankNumel, type TpSplit } from './params.js';
import { pipelineStages } from './pipeline-partition.js';

/** Everything `neox-sim model show` reports, as data (the CLI prints it or writes it as JSON). */
export interface SummaryOptions {
  tp: number;
  pp: number;
  microBatch: number;
  seqLength?: number;
  recompute: Recompute;
  /** Sequences per optimizer step, for per-step FLOPs. */
  globalBatch?: number;
  partitionMethod?: string;
  attentionDropout?: number;
  hiddenDropout?: number;
}

export interface TensorRow {
  name: string;
  shape: number[];
  numel: number;
  split: TpSplit;
  perRank: number;
}

export interface FlopConventions {
  /** 6 × unique parameters. */
  sixN: number;
  /** Narayanan et al., full recompute (factor 96). */
  megatronRecompute: number;
  /** Narayanan et al., no recompute (factor 72). */
  megatronNoRecompute: number;
  /** gpt-neox's 2022 logger, 6·P_printed + 60·s·h·L. */
  neoxLogger2022: number;
}

export interface ModelSummary {
  model: NeoXConfig & { headDim: number; rotaryDims: number; embeddingRows: number };
  plan: Required<Pick<SummaryOptions, 'tp' | 'pp' | 'microBatch' | 'recompute'>> & { seqLength: number; globalBatch?: number };
  params: {
    unique: number;
    embedding: number;
    nonEmbedding: number;
    perLayer: number;
    /** What gpt-neox prints at this TP/PP. */
    printed: number;
    /** printed − unique, by cause. */
    surplus: { layerNorms: number; rowParallelBiases: number; tiedEmbeddingCopy: number };
  };
  /** Embedding, layer 0 (every layer has the same tensors) and head tensors. */
  tensors: TensorRow[];
  stages: { stage: number; firstLayer: number; endLayer: number; entries: string[]; paramsPerRank: number }[];
  flops: {
    perToken: FlopConventions;
    perStep?: FlopConventions;
    /** Matmul FLOPs of one micro-batch counted from the op lists (all TP ranks). */
    opListPerMicroBatch: FlopTerms;
    /** The Megatron formula for the same micro-batch and recompute setting. */
    megatronPerMicroBatch: FlopTerms;
  };
  activationsPerLayer: { opList: LayerActivations; korthikanti: number };
  ops: { embedding: Op[]; layer: Op[]; head: Op[] };
}

export function summarizeModel(cfg: NeoXConfig, o: SummaryOptions): ModelSummary {
  checkTensorParallel(cfg, o.tp);
  const seqLength = o.seqLength ?? cfg.seqLength;
  const opts = { tp: o.tp, microBatch: o.microBatch, seqLength, recompute: o.recompute, attentionDropout: o.attentionDropout, hiddenDropout: o.hiddenDropout };
  const counts = countParams(cfg, o.tp);
  const all = paramTensors(cfg, o.tp);
  const replicatedOf = (pred: (name: string) => boolean) =>
    all.filter((t) => t.split === 'replicated' && pred(t.name)).reduce((a, t) => a + t.numel, 0) * (o.tp - 1);
  const printed = neoxPrintedParams(cfg, o.tp, o.pp);
  const layerNorms = replicatedOf((n) => n.includes('layernorm') || n.includes('layer_norm'));
  const rowParallelBiases = replicatedOf((n) => n.endsWith('dense.bias') || n.endsWith('dense_4h_to_h.bias'));
  const shown = all.filter((t) => t.layer === undefined || t.layer === 0);

  const perToken = (tokensPerSeq: number): FlopConventions => ({
    sixN: sixNFlopsPerToken(cfg, o.tp),
    megatronRecompute: megatronFlops(cfg, { batch: 1, seqLength }, true, o.tp).total / tokensPerSeq,
    megatronNoRecompute: megatronFlops(cfg, { batch: 1, seqLength }, false, o.tp).total / tokensPerSeq,
    neoxLogger2022: neoxLogger2022FlopsPerToken(cfg, o.tp, o.pp, seqLength),
  });
  const tokenFlops = perToken(seqLength);
  const stepTokens = o.globalBatch !== undefined ? o.globalBatch * seqLength : undefined;
  const scale = (c: FlopConventions, k: number): FlopConventions =>
    ({ sixN: c.sixN * k, megatronRecompute: c.megatronRecompute * k, megatronNoRecompute: c.megatronNoRecompute * k, neoxLogger2022: c.neoxLogger2022 * k });

  return {
    model: { ...cfg, headDim: headDim(cfg), rotaryDims: rotaryDims(cfg), embeddingRows: paddedVocabSize(cfg, o.tp) },
    plan: { tp: o.tp, pp: o.pp, microBatch: o.microBatch, recompute: o.recompute, seqLength, globalBatch: o.globalBatch },
    params: {
      unique: counts.total, embedding: counts.embedding, nonEmbedding: counts.nonEmbedding, perLayer: counts.perLayer, printed,
      surplus: { layerNorms, rowParallelBiases, tiedEmbeddingCopy: printed - counts.total - layerNorms - rowParallelBiases },
    },
    tensors: shown.map((t) => ({ name: t.name, shape: t.shape, numel: t.numel, split: t.split, perRank: perRankNumel(t, o.tp) })),
    stages: pipelineStages(cfg, Math.max(1, o.pp), o.tp, o.partitionMethod).map((s) => ({
      stage: s.stage, firstLayer: s.firstLayer, endLayer: s.endLayer, entries: s.entries.map((e) => e.typeName), paramsPerRank: s.paramsPerRank,
    })),
    flops: {
      perToken: tokenFlops,
      perStep: stepTokens !== undefined ? scale(tokenFlops, stepTokens) : undefined,
      opListPerMicroBatch: opListFlops(cfg, opts),
      megatronPerMicroBatch: megatronFlops(cfg, { batch: o.microBatch, seqLength }, o.recompute === 'full', o.tp),
    },
    activationsPerLayer: { opList: layerActivationBytes(cfg, opts), korthikanti: korthikantiActivationBytes(cfg, opts) },
    ops: { embedding: embeddingOps(cfg, opts), layer: layerOps(cfg, opts), head: headOps(cfg, opts) },
  };
}
