import { learnedPositions, paddedVocabSize, qkvWidth, type NeoXConfig } from './config.js';

/**
 * How Megatron's tensor parallelism (gpt-neox mpu/layers.py) stores a parameter on its TP ranks:
 * - 'column': ColumnParallelLinear weight and bias, output rows split (dim 0 of the HF [out, in] weight);
 * - 'row':    RowParallelLinear weight, input columns split (dim 1);
 * - 'vocab':  VocabParallelEmbedding / column-parallel output projection, vocabulary rows split;
 * - 'replicated': a full copy on every rank (LayerNorms, and the row-parallel biases).
 */
export type TpSplit = 'column' | 'row' | 'vocab' | 'replicated';

export type ParamPlacement = 'embedding' | 'layer' | 'final-norm' | 'output';

/** One parameter tensor, named and shaped as in HF GPTNeoXForCausalLM (the merged, TP = 1 checkpoint). */
export interface ParamTensor {
  name: string;
  /** Full (unsharded) shape; linear weights are [out, in]. */
  shape: number[];
  numel: number;
  split: TpSplit;
  placement: ParamPlacement;
  /** Transformer layer index for placement 'layer'. */
  layer?: number;
  /**
   * Row-parallel bias: each TP rank adds its own copy before the single all-reduce, so the layer's effective
   * bias is the SUM of the copies (merge20b.py sums them when merging TP = 2 → 1).
   */
  summedOverTp: boolean;
  /** gpt-neox puts LayerNorm params and every bias in the weight-decay-0 group (model/utils.py). */
  noWeightDecay: boolean;
}

function tensor(name: string, shape: number[], split: TpSplit, placement: ParamPlacement, extra: Partial<ParamTensor> = {}): ParamTensor {
  const isBiasOrNorm = name.endsWith('.bias') || name.includes('layernorm') || name.includes('layer_norm');
  return {
    name, shape, numel: shape.reduce((a, b) => a * b, 1), split, placement,
    summedOverTp: false, noWeightDecay: isBiasOrNorm, ...extra,
  };
}

/** The 12 tensors of transformer layer `i`, in HF state-dict order. */
export function layerParamTensors(cfg: NeoXConfig, i: number): ParamTensor[] {
  const h = cfg.hiddenSize;
  const f = cfg.ffnHiddenSize;
  // (heads + 2·kvHeads)·headDim rows: 3h without grouped-query attention.
  const qkv = qkvWidth(cfg);
  const p = `gpt_neox.layers.${i}`;
  const t = (name: string, shape: number[], split: TpSplit, extra: Partial<ParamTensor> = {}) =>
    tensor(`${p}.${name}`, shape, split, 'layer', { layer: i, ...extra });
  return [
    t('input_layernorm.weight', [h], 'replicated'),
    t('input_layernorm.bias', [h], 'replicated'),
    t('post_attention_layernorm.weight', [h], 'replicated'),
    t('post_attention_layernorm.bias', [h], 'replicated'),
    t('attention.query_key_value.weight', [qkv, h], 'column'),
    t('attention.query_key_value.bias', [qkv], 'column'),
    t('attention.dense.weight', [h, h], 'row'),
    t('attention.dense.bias', [h], 'replicated', { summedOverTp: true }),
    t('mlp.dense_h_to_4h.weight', [f, h], 'column'),
    t('mlp.dense_h_to_4h.bias', [f], 'column'),
    t('mlp.dense_4h_to_h.weight', [h, f], 'row'),
    t('mlp.dense_4h_to_h.bias', [h], 'replicated', { summedOverTp: true }),
  ];
}

/**
 * The input embedding: word rows fixed by the model (`paddedVocab`) or by the TP degree the model is padded
 * for; with learned positions also the [maxPositionEmbeddings, h] table, which every TP rank holds in full
 * (Megatron's and gpt-neox's `position_embeddings` is a plain torch.nn.Embedding).
 */
export function embeddingParamTensors(cfg: NeoXConfig, paddingTp = 1): ParamTensor[] {
  const words = wordEmbeddingTensor(cfg, paddingTp);
  if (!learnedPositions(cfg)) return [words];
  return [words, tensor('gpt_neox.embed_pos.weight', [cfg.maxPositionEmbeddings, cfg.hiddenSize], 'replicated', 'embedding')];
}

/** The word embedding alone: what a tied output layer shares (and what the head's stage holds a copy of). */
export function wordEmbeddingTensor(cfg: NeoXConfig, paddingTp = 1): ParamTensor {
  return tensor('gpt_neox.embed_in.weight', [paddedVocabSize(cfg, paddingTp), cfg.hiddenSize], 'vocab', 'embedding');
}

export function headParamTensors(cfg: NeoXConfig, paddingTp = 1): ParamTensor[] {
  const h = cfg.hiddenSize;
  const norm = [
    tensor('gpt_neox.final_layer_norm.weight', [h], 'replicated', 'final-norm'),
    tensor('gpt_neox.final_layer_norm.bias', [h], 'replicated', 'final-norm'),
  ];
  // Tied models reuse embed_in for the logits; gpt-neox's output projection has no bias (bias=False).
  if (cfg.tieWordEmbeddings) return norm;
  return [...norm, tensor('embed_out.weight', [paddedVocabSize(cfg, paddingTp), h], 'vocab', 'output')];
}

/** Every unique parameter tensor of the model, in HF state-dict order. */
export function paramTensors(cfg: NeoXConfig, paddingTp = 1): ParamTensor[] {
  const layers = Array.from({ length: cfg.numLayers }, (_, i) => layerParamTensors(cfg, i)).flat();
  return [...embeddingParamTensors(cfg, paddingTp), ...layers, ...headParamTensors(cfg, paddingTp)];
}

/** Elements of `t` stored on one TP rank. */
export function perRankNumel(t: ParamTensor, tp: number): number {
  return t.split === 'replicated' ? t.numel : t.numel / tp;
}

const sum = (ts: ParamTensor[], f: (t: ParamTensor) => number = (t) => t.numel) => ts.reduce((a, t) => a + f(t), 0);

export interface ParamCounts {
  /** Unique parameters (HF model card `nparameters`). */
  total: number;
  /** Input embedding plus the untied output projection. */
  embedding: number;
  nonEmbedding: number;
  perLayer: number;
}

export function countParams(cfg: NeoXConfig, paddingTp = 1): ParamCounts {
  const all = paramTensors(cfg, paddingTp);
  const embedding = sum(all.filter((t) => t.placement === 'embedding' || t.placement === 'output'));
  const total = sum(all);
  return { total, embedding, nonEmbedding: total - embedding, perLayer: sum(layerParamTensors(cfg, 0)) };
}

/** Parameters of one transformer layer held by one TP rank. */
export function layerParamsPerRank(cfg: NeoXConfig, tp: number): number {
  return sum(layerParamTensors(cfg, 0), (t) => perRankNumel(t, tp));
}

/**
 * The extra elements gpt-neox's printed count adds on top of the unique count at TP degree `tp` (and PP
 * degree `pp` for tied embeddings): every replicated tensor is counted once per TP rank, and a tied embedding
 * is held (and counted) by both the first and the last pipeline stage.
 */
export function printedParamSurplus(cfg: NeoXConfig, tp: number, pp: number): number {
  const replicated = sum(paramTensors(cfg, tp).filter((t) => t.split === 'replicated'));
  const tiedCopy = cfg.tieWordEmbeddings && pp > 1 ? wordEmbeddingTensor(cfg, tp).numel : 0;
  return replicated * (tp - 1) + tiedCopy;
}

/**
 * The number gpt-neox prints (training.py `get_total_params`): every rank with data-parallel rank 0 sums
 * `p.nelement()` over its own parameters, then the sums are all-reduced. For NeoX-20B at TP = 2 this is
 * 20,556,201,984 = 20,554,567,680 unique + 1,634,304 TP-replicated LayerNorm and row-parallel-bias elements.
 */
export function neoxPrintedParams(cfg: NeoXConfig, tp: number, pp = 1): number {
  return countParams(cfg, tp).total + printedParamSurplus(cfg, tp, pp);
}
