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
    activation: 'gelu-erf',
    ...extra,
  };
}

export const PRESETS: Record<string, NeoXConfig> = Object.fromEntries(
  [
    // configs/20B.yml: tanh GELU via bias_gelu_fusion.
    preset('neox-20b', 44, 6144, 64, { activation: 'gelu-tanh' }),
    // Pythia suite (EleutherAI/pythia configs; HF hidden_act "gelu" = exact erf).
    preset('pythia-70m', 6, 512, 8),
    preset('pythia-160m', 12, 768, 12),
    preset('pythia-410m', 24, 1024, 16),
    preset('pythia-1b', 16, 2048, 8),
    preset('pythia-1.4b', 24, 2048, 16),
    preset('pythia-2.8b', 32, 2560, 32),
    preset('pythia-6.9b', 32, 4096, 32),
    preset('pythia-12b', 36, 5120, 40),
    // Reduced-scale presets for the reference trainer (tanh GELU like the 20B run).
    preset('neox-tiny', 2, 64, 4, { vocabSize: 128, seqLength: 16, activation: 'gelu-tanh' }),
    preset('neox-tiny3', 3, 96, 6, { vocabSize: 128, seqLength: 32, activation: 'gelu-tanh' }),
    preset('neox-small', 4, 256, 4, { seqLength: 128, activation: 'gelu-tanh' }),
    preset('neox-medium', 6, 384, 6, { seqLength: 256, activation: 'gelu-tanh' }),
  ].map((c) => [c.name, c]),
);

export function getPreset(name: string): NeoXConfig {
  const cfg = PRESETS[name];
  if (!cfg) throw InputError.field("", "--model", `one of ${Object.keys(PRESETS).join(", ")}`, name);
  return structuredClone(cfg);
}
