import { InputError } from '../common/errors.js';
import { validateConfig, type InitMethod, type NeoXConfig } from './config.js';

/**
 * gpt-neox configuration keys ↔ neox-sim's structures. gpt-neox reads YAML files whose top-level keys may
 * be spelled with '-' or '_' (NeoXArgs.from_ymls replaces '-' by '_'); DeepSpeed's nested dicts
 * (optimizer, zero_optimization, fp16) keep their own names. Defaults are NeoXArgs' and DeepSpeed's when a
 * key is absent (neox_arguments/neox_args.py, deepspeed_args.py, arguments.py ZERO_DEFAULTS). Keys neox-sim
 * does not model are kept verbatim in `extra` and written back on export.
 */
export interface NeoxTraining {
  trainIters?: number;
  trainMicroBatchSize?: number;
  gradientAccumulationSteps: number;
  /** `train_batch_size` when the file gives it; otherwise micro × GAS × DP, known only with the GPU count. */
  globalBatch?: number;
  optimizerType: string;
  lr: number;
  minLr: number;
  /** Fraction of train iterations spent warming up. */
  warmup: number;
  lrDecayStyle: 'constant' | 'linear' | 'cosine' | 'exponential';
  /** Defaults to trainIters in gpt-neox. */
  lrDecayIters?: number;
  adamBetas: [number, number];
  adamEps: number;
  weightDecay: number;
  gradientClipping: number;
  zeroStage: number;
  reduceBucketSize: number;
  allgatherBucketSize: number;
  overlapComm: boolean;
  reduceScatter: boolean;
  contiguousGradients: boolean;
  precision: 'fp16' | 'bf16' | 'fp32';
  /** DeepSpeed's fp16 loss scaler: loss_scale 0 = dynamic. */
  lossScaler: { dynamic: boolean; staticScale: number; initialScalePower: number; window: number; hysteresis: number; minScale: number };
  checkpointActivations: boolean;
  checkpointNumLayers: number;
  partitionActivations: boolean;
  hiddenDropout: number;
  attentionDropout: number;
  evalInterval: number;
  evalIters: number;
  /** `save-interval`, called `checkpoint-factor` in later gpt-neox. */
  saveInterval?: number;
  seed: number;
}

export interface NeoxParallel {
  /** gpt-neox: 0 or 1 runs the model without a pipeline. */
  pipeParallelSize: number;
  /** Tensor-parallel degree. */
  modelParallelSize: number;
  pipePartitionMethod: string;
}

export interface NeoxRun {
  model: NeoXConfig;
  training: NeoxTraining;
  parallel: NeoxParallel;
  /** Keys neox-sim does not model, as written (nested leftovers of optimizer/zero/fp16 dicts included). */
  extra: Record<string, unknown>;
}

/** gpt-neox's defaults for a run whose file sets nothing but the model. */
export function defaultTraining(): NeoxTraining {
  return {
    gradientAccumulationSteps: 1, optimizerType: 'Adam', lr: 0.001, minLr: 0, warmup: 0.01, lrDecayStyle: 'linear',
    adamBetas: [0.9, 0.999], adamEps: 1e-8, weightDecay: 0.01, gradientClipping: 0,
    zeroStage: 0, reduceBucketSize: 5e8, allgatherBucketSize: 5e8, overlapComm: false, reduceScatter: true, contiguousGradients: false,
    precision: 'fp32',
    lossScaler: { dynamic: true, staticScale: 0, initialScalePower: 32, window: 1000, hysteresis: 2, minScale: 1 },
    checkpointActivations: false, checkpointNumLayers: 1, partitionActivations: false,
    hiddenDropout: 0.1, attentionDropout: 0.1, evalInterval: 1000, evalIters: 100, seed: 1234,
  };
}

/** Vocabulary of the tokenizer a gpt-neox `tokenizer_type` loads (HFTokenizer: the NeoX-20B tokenizer, 50,277 ids). */
export const TOKENIZER_VOCAB: Record<string, number> = { HFTokenizer: 50277, GPT2BPETokenizer: 50257, HFGPT2Tokenizer: 50257, CharLevelTokenizer: 512 };

/** One top-level key as found in a file. */
export interface KeyEntry {
  key: string;
  value: unknown;
  file: string;
}

/** The gpt-neox name of a top-level key: '-' → '_'. */
export const normalizeKey = (k: string) => k.replace(/-/g, '_');

type Scalar = 'int' | 'number' | 'bool' | 'string';

/** Reads typed values out of a key map, remembering what it consumed so the rest can pass through. */
class KeyReader {
  readonly used = new Set<string>();
  constructor(private readonly entries: Map<string, KeyEntry>, private readonly where: string, private readonly prefix = '') {}

  has(name: string): boolean {
    return (this.entries.get(name)?.value ?? null) !== null;
  }

  /** The entry for `name`; an explicit null counts as absent, like gpt-neox's None defaults. */
  raw(name: string): KeyEntry | undefined {
    const e = this.entries.get(name);
    if (e) this.used.add(name);
    return e?.value === null ? undefined : e;
  }

  get(name: string, type: Scalar, opts: { required?: string; min?: number } = {}): unknown {
    const e = this.raw(name);
    if (!e) {
      if (opts.required) throw InputError.field(this.where, this.prefix + opts.required, `${describe(type, opts.min)} (required, but missing)`);
      return undefined;
    }
    const v = e.value;
    const ok =
      type === 'bool' ? typeof v === 'boolean'
        : type === 'string' ? typeof v === 'string'
          : typeof v === 'number' && Number.isFinite(v) && (type === 'number' || Number.isInteger(v)) && (opts.min === undefined || v >= opts.min);
    if (!ok) throw InputError.field(e.file, this.prefix + e.key, describe(type, opts.min), v);
    return v;
  }

  int(name: string, fallback: number, min = 0): number {
    return (this.get(name, 'int', { min }) as number | undefined) ?? fallback;
  }
  optInt(name: string, min = 0): number | undefined {
    return this.get(name, 'int', { min }) as number | undefined;
  }
  required(name: string, spelled: string): number {
    return this.get(name, 'int', { required: spelled, min: 1 }) as number;
  }
  num(name: string, fallback: number): number {
    return (this.get(name, 'number') as number | undefined) ?? fallback;
  }
  bool(name: string, fallback: boolean): boolean {
    return (this.get(name, 'bool') as boolean | undefined) ?? fallback;
  }
  str(name: string, fallback: string): string {
    return (this.get(name, 'string') as string | undefined) ?? fallback;
  }
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T, why = ''): T {
    const e = this.raw(name);
    const v = this.str(name, fallback);
    if (!choices.includes(v as T)) {
      throw InputError.field(e?.file ?? this.where, this.prefix + (e?.key ?? name), `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}${why}`, v);
    }
    return v as T;
  }

  /** A nested DeepSpeed dict, read with its own (unnormalised) keys. */
  dict(name: string): KeyReader {
    const e = this.raw(name);
    if (e && (typeof e.value !== 'object' || e.value === null || Array.isArray(e.value))) {
      throw InputError.field(e.file, this.prefix + e.key, 'a mapping', e.value);
    }
    const obj = (e?.value ?? {}) as Record<string, unknown>;
    const sub = new Map(Object.entries(obj).map(([k, value]) => [k, { key: k, value, file: e?.file ?? this.where }]));
    return new KeyReader(sub, this.where, `${this.prefix}${e?.key ?? name}.`);
  }

  /** Entries not consumed, as {key: value} in file order. */
  leftovers(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, e] of this.entries) if (!this.used.has(name)) out[e.key] = e.value;
    return out;
  }
}

function describe(type: Scalar, min?: number): string {
  if (type === 'bool') return 'true or false';
  if (type === 'string') return 'a string';
  if (type === 'number') return 'a number';
  return min === 1 ? 'a positive integer' : 'a non-negative integer';
}

const INIT_METHODS: readonly InitMethod[] = ['small_init', 'wang_init', 'normal', 'scaled_normal'];
const NOT_MODELED = ' (the only form neox-sim models)';

export interface RunFromKeysOptions {
  /** Report name for the model (a file name). */
  name: string;
  /** Where errors about missing keys point: the file(s) read. */
  where: string;
  /** Tokenizer ids, overriding what `tokenizer_type` implies. */
  vocabSize?: number;
}

/** Builds a NeoxRun from the merged top-level keys of one or more gpt-neox config files. */
export function runFromKeys(entries: Map<string, KeyEntry>, opts: RunFromKeysOptions): NeoxRun {
  const r = new KeyReader(entries, opts.where);
  const parallel: NeoxParallel = {
    pipeParallelSize: r.int('pipe_parallel_size', 0),
    modelParallelSize: r.int('model_parallel_size', 1, 1),
    pipePartitionMethod: r.str('pipe_partition_method', 'type:transformer|mlp'),
  };
  const model = readModel(r, opts, parallel.modelParallelSize);
  const training = readTraining(r);
  const extra = r.leftovers();
  for (const [name, sub] of training.leftoverDicts) if (Object.keys(sub).length) extra[entries.get(name)!.key] = sub;
  return { model, training: training.value, parallel, extra };
}

function readModel(r: KeyReader, opts: RunFromKeysOptions, tp: number): NeoXConfig {
  r.oneOf('norm', ['layernorm'], 'layernorm', NOT_MODELED);
  const positionEmbedding = r.oneOf('pos_emb', ['rotary', 'learned'], 'learned', ' (the forms neox-sim models)');
  r.oneOf('activation', ['gelu'], 'gelu', NOT_MODELED);
  if (r.bool('gpt_j_tied', false)) throw InputError.field(opts.where, 'gpt_j_tied', `false${NOT_MODELED}: NeoX-20B's two LayerNorms are untied`, true);
  const outputLayer = r.oneOf('output_layer_parallelism', ['column', 'row'], 'row');
  if (outputLayer === 'row' && tp > 1) {
    throw InputError.field(r.raw('output_layer_parallelism')?.file ?? opts.where, 'output_layer_parallelism', `"column" when model-parallel-size > 1${NOT_MODELED}; gpt-neox defaults to "row"`, outputLayer);
  }
  const hiddenSize = r.required('hidden_size', 'hidden-size');
  const numHeads = r.required('num_attention_heads', 'num-attention-heads');
  const kvHeads = r.optInt('num_kv_heads', 1);
  if (kvHeads !== undefined && kvHeads !== numHeads) throw InputError.field(r.raw('num_kv_heads')!.file, 'num_kv_heads', `${numHeads} (grouped-query attention is not modeled)`, kvHeads);
  const seqLength = r.required('seq_length', 'seq-length');
  checkAttentionConfig(r.raw('attention_config'));
  r.used.delete('attention_config'); // checked, but passed through unchanged
  const tokenizer = r.has('tokenizer_type') ? (r.raw('tokenizer_type')!.value as string) : 'GPT2BPETokenizer';
  r.used.delete('tokenizer_type'); // read, but passed through unchanged
  const vocabSize = opts.vocabSize ?? (Object.hasOwn(TOKENIZER_VOCAB, tokenizer) ? TOKENIZER_VOCAB[tokenizer] : undefined);
  if (vocabSize === undefined) {
    throw InputError.field(opts.where, 'tokenizer_type', `one of ${Object.keys(TOKENIZER_VOCAB).join(', ')}, or the vocabulary size given with --vocab-size`, tokenizer);
  }
  const makeVocabSizeDivisibleBy = r.int('make_vocab_size_divisible_by', 128, 1);
  const multiple = makeVocabSizeDivisibleBy * tp;
  const model: NeoXConfig = {
    name: opts.name,
    numLayers: r.required('num_layers', 'num-layers'),
    hiddenSize,
    numHeads,
    ffnHiddenSize: r.int('intermediate_size', 4 * hiddenSize, 1),
    vocabSize,
    makeVocabSizeDivisibleBy,
    // The model in the file is the one gpt-neox builds: rows padded at the file's model-parallel-size.
    paddedVocab: Math.ceil(vocabSize / multiple) * multiple,
    seqLength,
    maxPositionEmbeddings: r.int('max_position_embeddings', seqLength, 1),
    // Absent means rotary (the presets); set only for the other form.
    ...(positionEmbedding === 'learned' ? { positionEmbedding } : {}),
    rotaryPct: r.num('rotary_pct', 1),
    rotaryEmbBase: r.num('rotary_emb_base', 10000),
    layernormEpsilon: r.num('layernorm_epsilon', 1e-5),
    parallelResidual: r.bool('gpt_j_residual', false),
    activation: r.bool('bias_gelu_fusion', false) ? 'gelu-tanh' : 'gelu-erf',
    tieWordEmbeddings: !r.bool('no_weight_tying', false),
    initMethod: r.oneOf('init_method', INIT_METHODS, 'normal', NOT_MODELED),
    outputLayerInitMethod: r.oneOf('output_layer_init_method', INIT_METHODS, 'scaled_normal', NOT_MODELED),
    initMethodStd: r.num('init_method_std', 0.02),
  };
  validateConfig(model, opts.where, (field) => MODEL_KEY_SPELLING[field] ?? field);
  // Layers are listed one by one (model show, the op graph): a count of 1e9 ran out of memory.
  if (model.numLayers > MAX_LAYERS) {
    throw InputError.field(opts.where, 'num-layers', `at most ${MAX_LAYERS.toLocaleString('en-US')} layers (published dense models have at most a few hundred)`, model.numLayers);
  }
  return model;
}

/** The most layers a config may have: 100× the deepest published dense model (Megatron 1T, 128 layers). */
export const MAX_LAYERS = 16_384;

/**
 * gpt-neox `attention_config`, e.g. [[["global"], 44]]: every layer must use dense causal attention
 * ("global", or "flash" — the same math with FlashAttention kernels; the op list models the 2022 unfused
 * kernels either way). Sparse, local and other layer types are not modeled.
 */
function checkAttentionConfig(e: KeyEntry | undefined): void {
  if (!e) return;
  const groups = e.value;
  const wellFormed = Array.isArray(groups) && groups.every((g) =>
    Array.isArray(g) && g.length === 2 && Array.isArray(g[0]) && g[0].every((t: unknown) => typeof t === 'string') && Number.isInteger(g[1]));
  if (!wellFormed) throw InputError.field(e.file, e.key, 'a list of [[layer types], count] pairs, e.g. [[["global"], 44]]', groups);
  for (const [types] of groups as [string[], number][]) {
    const other = types.find((t) => t !== 'global' && t !== 'flash');
    if (other !== undefined) throw InputError.field(e.file, e.key, `"global" or "flash" layers${NOT_MODELED}`, other);
  }
}

/** How errors about a NeoXConfig field name the gpt-neox key. */
const MODEL_KEY_SPELLING: Record<string, string> = {
  numLayers: 'num-layers', hiddenSize: 'hidden-size', numHeads: 'num-attention-heads', ffnHiddenSize: 'intermediate_size',
  vocabSize: 'tokenizer_type', makeVocabSizeDivisibleBy: 'make-vocab-size-divisible-by', seqLength: 'seq-length',
  maxPositionEmbeddings: 'max-position-embeddings', positionEmbedding: 'pos-emb', rotaryPct: 'rotary_pct', paddedVocab: 'make-vocab-size-divisible-by',
};

function readTraining(r: KeyReader): { value: NeoxTraining; leftoverDicts: [string, Record<string, unknown>][] } {
  const d = defaultTraining();
  const opt = r.dict('optimizer');
  const params = opt.dict('params');
  const zero = r.dict('zero_optimization');
  const fp16 = r.dict('fp16');
  const bf16 = r.dict('bf16');
  const gasKey = r.has('gradient_accumulation_steps') ? 'gradient_accumulation_steps' : 'gas';
  const betas = params.raw('betas');
  if (betas && !(Array.isArray(betas.value) && betas.value.length === 2 && betas.value.every((b) => typeof b === 'number'))) {
    throw InputError.field(betas.file, 'optimizer.params.betas', 'a list of two numbers', betas.value);
  }
  const fp16Enabled = fp16.bool('enabled', false);
  const lossScale = fp16.num('loss_scale', 0);
  const value: NeoxTraining = {
    trainIters: r.optInt('train_iters', 1),
    trainMicroBatchSize: r.optInt('train_micro_batch_size_per_gpu', 1),
    gradientAccumulationSteps: r.int(gasKey, d.gradientAccumulationSteps, 1),
    globalBatch: r.optInt('train_batch_size', 1),
    optimizerType: opt.str('type', d.optimizerType),
    lr: params.num('lr', d.lr),
    minLr: r.num('min_lr', d.minLr),
    warmup: r.num('warmup', d.warmup),
    lrDecayStyle: r.oneOf('lr_decay_style', ['constant', 'linear', 'cosine', 'exponential'] as const, d.lrDecayStyle),
    lrDecayIters: r.optInt('lr_decay_iters', 1),
    adamBetas: (betas?.value as [number, number] | undefined) ?? d.adamBetas,
    adamEps: params.num('eps', d.adamEps),
    weightDecay: r.num('weight_decay', d.weightDecay),
    gradientClipping: r.num('gradient_clipping', d.gradientClipping),
    zeroStage: zero.int('stage', d.zeroStage),
    reduceBucketSize: zero.num('reduce_bucket_size', d.reduceBucketSize),
    allgatherBucketSize: zero.num('allgather_bucket_size', d.allgatherBucketSize),
    overlapComm: zero.bool('overlap_comm', d.overlapComm),
    reduceScatter: zero.bool('reduce_scatter', d.reduceScatter),
    contiguousGradients: zero.bool('contiguous_gradients', d.contiguousGradients),
    precision: bf16.bool('enabled', false) || fp16.str('type', '') === 'bfloat16' ? 'bf16' : fp16Enabled ? 'fp16' : 'fp32',
    lossScaler: {
      dynamic: lossScale === 0,
      staticScale: lossScale,
      initialScalePower: fp16.num('initial_scale_power', d.lossScaler.initialScalePower),
      window: fp16.num('loss_scale_window', d.lossScaler.window),
      hysteresis: fp16.num('hysteresis', d.lossScaler.hysteresis),
      minScale: fp16.num('min_loss_scale', d.lossScaler.minScale),
    },
    checkpointActivations: r.bool('checkpoint_activations', d.checkpointActivations),
    checkpointNumLayers: r.int('checkpoint_num_layers', d.checkpointNumLayers, 1),
    partitionActivations: r.bool('partition_activations', d.partitionActivations),
    hiddenDropout: r.num('hidden_dropout', d.hiddenDropout),
    attentionDropout: r.num('attention_dropout', d.attentionDropout),
    evalInterval: r.int('eval_interval', d.evalInterval, 1),
    evalIters: r.int('eval_iters', d.evalIters),
    saveInterval: r.optInt('save_interval', 1) ?? r.optInt('checkpoint_factor', 1),
    seed: r.int('seed', d.seed),
  };
  opt.used.add('params');
  const optLeft = { ...opt.leftovers(), ...(Object.keys(params.leftovers()).length ? { params: params.leftovers() } : {}) };
  return {
    value,
    leftoverDicts: [['optimizer', optLeft], ['zero_optimization', zero.leftovers()], ['fp16', fp16.leftovers()], ['bf16', bf16.leftovers()]],
  };
}
