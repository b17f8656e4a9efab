import { InputError } from '../common/errors.js';
import type { NeoXConfig } from './config.js';

/** What every NeoX-family preset shares (gpt-neox defaults at the 20B release, neox-20b.md §2.1). */
const NEOX_DEFAULTS = {
  makeVocabSizeDivisibleBy: 128,
  rotaryPct: 0.25,
  rotaryEmbBase: 10000,
  layernormEpsilon: 1e-5,
  parallelResidual: true,
  tieWordEmbeddings: false,
  initMethod: 'small_init',
  outputLayerInitMethod: 'wang_init',
  initMethodStd: 0.02,
} as const;

/** The NeoX-20B tokenizer has 50,277 ids (50,254 BPE + 23 space runs), neox-20b.md §6. */
const NEOX_TOKENIZER_VOCAB = 50277;

function preset(name: string, numLayers: number, hiddenSize: number, numHeads: number, extra: Partial<NeoXConfig> = {}): NeoXConfig {
  const seq = extra.seqLength ?? 2048;
  return {
    ...NEOX_DEFAULTS,
    name,
    numLayers,
    hiddenSize,
    numHeads,
    ffnHiddenSize: 4 * hiddenSize,
    vocabSize: NEOX_TOKENIZER_VOCAB,
    seqLength: seq,
    maxPositionEmbeddings: seq,
    activation: 'gelu-tanh',
    ...extra,
  };
}

const GPT_NEOX_DEFAULT_INIT = { initMethod: 'normal', outputLayerInitMethod: 'scaled_normal' } as const;

/**
 * Embedding rows of a released checkpoint = gpt-neox's padding of the 50,277-id tokenizer at the TP degree
 * the model was trained with (a multiple of 128 × TP): TP 1 → 50304, TP 2 → 50432, TP 4 → 50688.
 */
const rowsTrainedAtTp = (tp: number) => Math.ceil(NEOX_TOKENIZER_VOCAB / (128 * tp)) * 128 * tp;

export const PRESETS: Record<string, NeoXConfig> = Object.fromEntries(
  [
    // configs/20B.yml (model-parallel-size 2): tanh GELU via bias_gelu_fusion.
    preset('neox-20b', 44, 6144, 64, { paddedVocab: rowsTrainedAtTp(2) }),
    // Pythia suite, EleutherAI/pythia models/*/pythia-*.yml: all set bias-gelu-fusion (tanh GELU in training;
    // the HF configs say "gelu", i.e. erf, for inference). model-parallel-size is 1 up to 2.8B, 2 for 6.9B and
    // 4 for 12B, which sets the embedding rows (HF vocab_size 50304 / 50432 / 50688).
    preset('pythia-14m', 6, 128, 4, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-31m', 6, 256, 8, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-70m', 6, 512, 8, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-160m', 12, 768, 12, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-410m', 24, 1024, 16, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-1b', 16, 2048, 8, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-1.4b', 24, 2048, 16, { paddedVocab: rowsTrainedAtTp(1) }),
    preset('pythia-2.8b', 32, 2560, 32, { paddedVocab: rowsTrainedAtTp(1) }),
    // The 6.9B and 12B configs set no init methods: gpt-neox's defaults, normal and scaled_normal (std 0.02).
    preset('pythia-6.9b', 32, 4096, 32, { paddedVocab: rowsTrainedAtTp(2), ...GPT_NEOX_DEFAULT_INIT }),
    preset('pythia-12b', 36, 5120, 40, { paddedVocab: rowsTrainedAtTp(4), ...GPT_NEOX_DEFAULT_INIT }),
    // Reduced-scale presets for the reference trainer; embedding rows follow the padding rule at the plan's TP.
    preset('neox-tiny', 2, 64, 4, { vocabSize: 128, seqLength: 16 }),
    preset('neox-tiny3', 3, 96, 6, { vocabSize: 128, seqLength: 32 }),
    preset('neox-small', 4, 256, 4, { seqLength: 128 }),
    preset('neox-medium', 6, 384, 6, { seqLength: 256 }),
  ].map((c) => [c.name, c]),
);

export function getPreset(name: string): NeoXConfig {
  const cfg = PRESETS[name];
  if (!cfg) throw InputError.field('', 'model preset', `one of ${Object.keys(PRESETS).join(', ')}`, name);
  return structuredClone(cfg);
}
