import { InputError } from '../common/errors.js';

/**
 * The NeoX model definition shared by the simulator (shapes only) and the trainer (real numbers).
 * Field meanings follow gpt-neox's NeoXArgs (configs/20B.yml at the 20B release) and HF GPTNeoXConfig.
 */
/**
 * 'rotary' = NeoX/Pythia rotary embeddings on `rotaryPct` of each head's dims; 'learned' = a trained
 * [maxPositionEmbeddings, h] table added to the word embeddings (GPT-2, Megatron-LM, gpt-neox's default
 * `pos_emb`), which turns rotary off.
 */
export type PositionEmbedding = 'rotary' | 'learned';
/** 'gelu-tanh' = gpt-neox `bias_gelu_fusion` (tanh form); 'gelu-erf' = torch F.gelu (exact erf). */
export type Activation = 'gelu-tanh' | 'gelu-erf';
/** gpt-neox init_functions.py names; 'scaled_normal' is its default for output layers (std / sqrt(2·layers)). */
export type InitMethod = 'small_init' | 'wang_init' | 'normal' | 'scaled_normal';
/**
 * How the attention core runs: 'materialized' = QKᵀ bmm, fused masked softmax and P·V bmm with the s×s
 * probabilities in HBM (gpt-neox 2022, Megatron's fused softmax); 'flash' = FlashAttention-2's fused forward
 * and backward kernels (Dao 2023, arXiv 2307.08691), which never write an s×s tensor. The names are the
 * trainer's `--attention materialized|flash`.
 */
export type AttentionKernel = 'materialized' | 'flash';

export interface NeoXConfig {
  /** Preset or file name, for reports. */
  name: string;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  /**
   * Key/value heads (grouped-query attention; 1 = multi-query); absent = numHeads (multi-head). Each group of
   * numHeads / numKvHeads query heads shares one K and one V head. Megatron-core's rule applies under tensor
   * parallelism: TP must divide numKvHeads (`divide(num_query_groups, world_size)` in
   * megatron/core/transformer/attention.py); kv heads are never replicated over TP ranks.
   */
  numKvHeads?: number;
  /** The attention core's kernels; absent = 'materialized'. */
  attentionKernel?: AttentionKernel;
  /** MLP inner width (4·h in every NeoX/Pythia model). */
  ffnHiddenSize: number;
  /** Tokenizer vocabulary (ids actually used), before padding. */
  vocabSize: number;
  /** gpt-neox pads the embedding to a multiple of this × TP degree. */
  makeVocabSizeDivisibleBy: number;
  /**
   * Embedding rows fixed by a released checkpoint (HF `vocab_size`), e.g. 50432 for NeoX-20B, which was
   * padded at TP = 2. When set, the model keeps these rows whatever TP a plan uses; when absent, rows follow
   * gpt-neox's padding rule at the plan's TP (see `paddedVocabSize`).
   */
  paddedVocab?: number;
  seqLength: number;
  maxPositionEmbeddings: number;
  /** How token positions enter the model; absent = 'rotary' (every NeoX and Pythia model). */
  positionEmbedding?: PositionEmbedding;
  /** Fraction of each head's dimensions that get rotary embeddings (ignored with learned positions). */
  rotaryPct: number;
  rotaryEmbBase: number;
  layernormEpsilon: number;
  /** NeoX's gpt_j_residual: x + attn(ln1(x)) + mlp(ln2(x)). */
  parallelResidual: boolean;
  activation: Activation;
  /** NeoX-20B and Pythia keep the input embedding and the output projection separate. */
  tieWordEmbeddings: boolean;
  initMethod: InitMethod;
  outputLayerInitMethod: InitMethod;
  /** Only used by init 'normal' and 'scaled_normal'. */
  initMethodStd: number;
}

/**
 * Embedding rows: the checkpoint's fixed `paddedVocab` if the model has one, else gpt-neox's
 * `_vocab_size_with_padding` (tokenizer.py): round up to a multiple of make_vocab_size_divisible_by × TP.
 * VocabParallelEmbedding splits rows evenly over TP ranks, so the result is always divisible by `tp`.
 */
export function paddedVocabSize(cfg: NeoXConfig, tp = 1): number {
  if (cfg.paddedVocab !== undefined) {
    if (cfg.paddedVocab % tp !== 0) {
      throw InputError.field(cfg.name, 'tensor-parallel size', `a divisor of the ${cfg.paddedVocab} embedding rows`, tp);
    }
    return cfg.paddedVocab;
  }
  const multiple = cfg.makeVocabSizeDivisibleBy * tp;
  return Math.ceil(cfg.vocabSize / multiple) * multiple;
}

export function headDim(cfg: NeoXConfig): number {
  return cfg.hiddenSize / cfg.numHeads;
}

/** Key/value heads: `numKvHeads`, or one per query head (multi-head attention). */
export function kvHeads(cfg: NeoXConfig): number {
  return cfg.numKvHeads ?? cfg.numHeads;
}

/** Output width of the fused QKV projection: (heads + 2·kvHeads)·headDim (3h without grouped-query attention). */
export function qkvWidth(cfg: NeoXConfig): number {
  return (cfg.numHeads + 2 * kvHeads(cfg)) * headDim(cfg);
}

export function flashAttention(cfg: NeoXConfig): boolean {
  return cfg.attentionKernel === 'flash';
}

/** Rotary dimensions per head: int(head_dim × rotary_pct), as gpt-neox and HF compute it; 0 with learned positions. */
export function rotaryDims(cfg: NeoXConfig): number {
  if (learnedPositions(cfg)) return 0;
  return Math.floor(headDim(cfg) * cfg.rotaryPct);
}

export function learnedPositions(cfg: NeoXConfig): boolean {
  return cfg.positionEmbedding === 'learned';
}

const POSITIVE_INTEGER_FIELDS = [
  'numLayers', 'hiddenSize', 'numHeads', 'ffnHiddenSize', 'vocabSize', 'makeVocabSizeDivisibleBy',
  'seqLength', 'maxPositionEmbeddings',
] as const;

/**
 * Checks a config's shape. Throws InputError naming `source` (a file or preset) and the field.
 * `keyName` maps a NeoXConfig field to the name the user wrote (a gpt-neox key for YAML files).
 */
export function validateConfig(cfg: NeoXConfig, source = cfg.name, keyName: (field: string) => string = (f) => f): void {
  for (const field of POSITIVE_INTEGER_FIELDS) {
    const v = cfg[field];
    if (!Number.isInteger(v) || v <= 0) throw InputError.field(source, keyName(field), 'a positive integer', v);
  }
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw InputError.field(source, keyName('hiddenSize'), `a multiple of the number of heads (${cfg.numHeads})`, cfg.hiddenSize);
  }
  if (cfg.numKvHeads !== undefined && (!Number.isInteger(cfg.numKvHeads) || cfg.numKvHeads < 1 || cfg.numHeads % cfg.numKvHeads !== 0)) {
    throw InputError.field(source, keyName('numKvHeads'), `a divisor of the number of heads (${cfg.numHeads})`, cfg.numKvHeads);
  }
  if (cfg.attentionKernel !== undefined && cfg.attentionKernel !== 'materialized' && cfg.attentionKernel !== 'flash') {
    throw InputError.field(source, keyName('attentionKernel'), '"materialized" or "flash"', cfg.attentionKernel);
  }
  if (cfg.positionEmbedding !== undefined && cfg.positionEmbedding !== 'rotary' && cfg.positionEmbedding !== 'learned') {
    throw InputError.field(source, keyName('positionEmbedding'), '"rotary" or "learned"', cfg.positionEmbedding);
  }
  if (!(cfg.rotaryPct >= 0 && cfg.rotaryPct <= 1)) throw InputError.field(source, keyName('rotaryPct'), 'a number in [0, 1]', cfg.rotaryPct);
  if (rotaryDims(cfg) % 2 !== 0) {
    throw InputError.field(source, keyName('rotaryPct'), `a fraction giving an even number of rotary dims per head (head dim ${headDim(cfg)})`, cfg.rotaryPct);
  }
  if (cfg.paddedVocab !== undefined && (!Number.isInteger(cfg.paddedVocab) || cfg.paddedVocab < cfg.vocabSize)) {
    throw InputError.field(source, keyName('paddedVocab'), `an integer ≥ the vocabulary (${cfg.vocabSize})`, cfg.paddedVocab);
  }
}

/** Megatron's tensor parallelism splits heads, the MLP width and the vocabulary evenly over `tp` ranks. */
export function checkTensorParallel(cfg: NeoXConfig, tp: number, source = cfg.name): void {
  if (!Number.isInteger(tp) || tp < 1) throw InputError.field(source, 'tensor-parallel size', 'a positive integer', tp);
  if (cfg.numHeads % tp !== 0) {
    throw InputError.field(source, 'tensor-parallel size', `a divisor of num-attention-heads (${cfg.numHeads})`, tp);
  }
  if (kvHeads(cfg) % tp !== 0) {
    // Megatron-core splits the key/value heads (query groups) over TP ranks and asserts divisibility.
    throw InputError.field(source, 'tensor-parallel size', `a divisor of the key/value heads (${kvHeads(cfg)}; Megatron-core does not replicate kv heads over TP ranks)`, tp);
  }
  if (cfg.ffnHiddenSize % tp !== 0) {
    throw InputError.field(source, 'tensor-parallel size', `a divisor of the MLP width (${cfg.ffnHiddenSize})`, tp);
  }
  paddedVocabSize(cfg, tp);
}
