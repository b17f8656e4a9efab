/**
 * The NeoX model definition shared by the simulator (shapes only) and the trainer (real numbers).
 * Field meanings follow gpt-neox's NeoXArgs (configs/20B.yml at the 20B release) and HF GPTNeoXConfig.
 */
export type Activation = 'gelu-tanh' | 'gelu-erf';
export type InitMethod = 'small_init' | 'wang_init' | 'normal';

export interface NeoXConfig {
  /** Preset or file name, for reports. */
  name: string;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  /** MLP inner width (4·h in every NeoX/Pythia model). */
  ffnHiddenSize: number;
  /** Tokenizer vocabulary (ids actually used), before padding. */
  vocabSize: number;
  /** gpt-neox pads the embedding to a multiple of this × TP degree. */
  makeVocabSizeDivisibleBy: number;
  seqLength: number;
  maxPositionEmbeddings: number;
  /** Fraction of each head's dimensions that get rotary embeddings. */
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
  /** Only used by init 'normal'. */
  initMethodStd: number;
}

/** Embedding rows after gpt-neox's padding (tokenizer.py `_vocab_size_with_padding`). */
export function paddedVocabSize(cfg: NeoXConfig, tp = 1): number {
  const multiple = cfg.makeVocabSizeDivisibleBy * tp;
  return Math.ceil(cfg.vocabSize / multiple) * multiple;
}

export function headDim(cfg: NeoXConfig): number {
  return cfg.hiddenSize / cfg.numHeads;
}

/** Rotary dimensions per head: int(head_dim × rotary_pct), as gpt-neox and HF compute it. */
export function rotaryDims(cfg: NeoXConfig): number {
  return Math.floor(headDim(cfg) * cfg.rotaryPct);
}
