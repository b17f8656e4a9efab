import { totalmem } from 'node:os';
import type { AttentionVariant, FloatBuf, Kernels } from '../backends/kernels.js';
import { InputError } from '../common/errors.js';
import type { NeoXConfig } from '../model/config.js';
import { paddedVocabSize, rotaryDims, validateConfig } from '../model/config.js';

/** Rejects model shapes the trainer cannot run: the shared checks, then what the trainer adds. */
export function validateTrainerConfig(cfg: NeoXConfig): void {
  validateConfig(cfg);
  const where = `model ${cfg.name}`;
  if (!(cfg.layernormEpsilon > 0)) throw InputError.field(where, 'layernormEpsilon', 'a positive number', cfg.layernormEpsilon);
  if (!(cfg.rotaryEmbBase > 0)) throw InputError.field(where, 'rotaryEmbBase', 'a positive number', cfg.rotaryEmbBase);
  if ((cfg.positionEmbedding ?? 'rotary') !== 'rotary') {
    throw InputError.field(where, 'positionEmbedding', '"rotary" (the trainer has no learned position table)', cfg.positionEmbedding);
  }
  if (cfg.tieWordEmbeddings) throw InputError.field(where, 'tieWordEmbeddings', 'false (NeoX keeps embed_in and embed_out separate)', true);
  if (cfg.seqLength > cfg.maxPositionEmbeddings) {
    throw InputError.field(where, 'seqLength', `at most maxPositionEmbeddings (${cfg.maxPositionEmbeddings})`, cfg.seqLength);
  }
}

/** The most elements one typed array holds (V8 on 64-bit, Node 20: 2^32). */
export const MAX_BUFFER_ELEMENTS = 2 ** 32;
/** The wasm backend's buffers share one 32-bit WebAssembly memory: 4 GiB. */
export const WASM_MEMORY_BYTES = 2 ** 32;

export interface TrainerShape {
  /** The backend computing the model (its buffers: parameters, gradients, activations). */
  model: Kernels;
  /** The backend of the master weights, Adam moments and loss (the model backend except in fp16). */
  master: Kernels;
  microBatchSize: number;
  /** Micro-batches per step: a step's tokens (gas × mbs sequences of seqLength + 1 ids) are one Int32Array. */
  gradientAccumulationSteps: number;
  seqLength: number;
  attention: AttentionVariant;
}

/** The elements of the trainer's parameters (HF GPTNeoX layout, untied embeddings), computed without listing them. */
export function trainerParamCount(cfg: NeoXConfig): number {
  const h = cfg.hiddenSize, f = cfg.ffnHiddenSize, v = paddedVocabSize(cfg);
  // Per layer: two LayerNorms (4h), QKV (3h·h + 3h), dense (h·h + h), h→4h (f·h + f), 4h→h (h·f + h).
  return 2 * v * h + 2 * h + cfg.numLayers * (4 * h * h + 2 * f * h + 9 * h + f);
}

/**
 * Rejects a model or batch whose buffers cannot be allocated, before allocating any: every buffer must fit
 * a typed array, and all of them the backend's memory (the wasm backend's 4 GiB; the js backend's, this
 * machine's memory). Without it a huge hidden-size or vocabulary ends in a RangeError from `alloc`.
 */
export function checkTrainerFits(cfg: NeoXConfig, t: TrainerShape, machineBytes = totalmem()): void {
  validateTrainerConfig(cfg);
  const where = `model ${cfg.name}`;
  const h = cfg.hiddenSize, f = cfg.ffnHiddenSize, v = paddedVocabSize(cfg), L = cfg.numLayers;
  const rows = t.microBatchSize * t.seqLength;
  const stepTokens = t.gradientAccumulationSteps * t.microBatchSize * (t.seqLength + 1);
  const positions = cfg.maxPositionEmbeddings * (rotaryDims(cfg) / 2);
  const big = (n: number) => (n < 1e15 ? n.toLocaleString('en-US') : n.toExponential(2));
  const buffers: [string, string, number, string, number][] = [
    [where, h >= v ? 'hiddenSize' : 'vocabSize', h >= v ? h : v, `embed_in.weight [${v} × ${h}]`, v * h],
    [where, 'hiddenSize', h, `query_key_value.weight [${3 * h} × ${h}]`, 3 * h * h],
    [where, f >= h ? 'ffnHiddenSize' : 'hiddenSize', f >= h ? f : h, `dense_h_to_4h.weight [${f} × ${h}]`, f * h],
    [where, 'maxPositionEmbeddings', cfg.maxPositionEmbeddings, `the rotary tables [${cfg.maxPositionEmbeddings} × ${rotaryDims(cfg) / 2}]`, positions],
    ['trainer', 'microBatchSize × seqLength', rows, `the logits [${rows} × ${v}]`, rows * v],
    ['trainer', 'microBatchSize × seqLength', rows, `the MLP activations [${rows} × ${f}]`, rows * f],
    ['trainer', 'microBatchSize × seqLength', rows, `the QKV activations [${rows} × ${3 * h}]`, rows * 3 * h],
    ['trainer', 'gradientAccumulationSteps', t.gradientAccumulationSteps, `a step's token ids [${t.gradientAccumulationSteps} × ${t.microBatchSize} × ${t.seqLength + 1}]`, stepTokens],
  ];
  for (const [w, field, got, what, n] of buffers) {
    if (n > MAX_BUFFER_ELEMENTS) {
      throw InputError.field(w, field, `a size whose largest buffer fits a typed array (at most ${big(MAX_BUFFER_ELEMENTS)} elements; ${what} has ${big(n)})`, got);
    }
  }
  const saved = t.seqLength < 2 ** 31 ? t.model.attentionSavedSize({ batch: t.microBatchSize, seq: t.seqLength, heads: cfg.numHeads, headDim: h / cfg.numHeads, variant: t.attention }) : Infinity;
  if (saved > MAX_BUFFER_ELEMENTS) {
    throw InputError.field('trainer', 'microBatchSize × seqLength', `a batch whose attention buffer fits a typed array (at most ${big(MAX_BUFFER_ELEMENTS)} elements; ${t.attention} attention keeps ${big(saved)})`, rows);
  }
  const P = trainerParamCount(cfg);
  const separateMaster = t.master !== t.model;
  // Parameters and gradients in the model backend; Adam's two moments (fp16: also fp32 master weights and gradients) in the master's.
  const paramModel = 2 * P, paramMaster = (separateMaster ? 4 : 2) * P;
  // The activations each forward keeps and the backward's buffers (a lower bound: small per-row buffers left out).
  const perLayer = 7 * rows * h + 2 * rows * 3 * h + 2 * rows * h + saved + 2 * positions + 3 * rows * f;
  const actModel = (L + 3) * rows * h + L * perLayer + 2 * rows * h + 2 * rows * v;
  const actMaster = separateMaster ? rows * v : 0;
  const bytes = (K: Kernels) => (K.dtype === 'f64' ? 8 : 4);
  const pool = (K: Kernels) => (K.name.startsWith('wasm') ? 'wasm' : 'js');
  const need = { wasm: 0, js: 4 * stepTokens };
  need[pool(t.model)] += (paramModel + actModel) * bytes(t.model);
  need[pool(t.master)] += (paramMaster + actMaster) * bytes(t.master);
  const gib = (b: number) => (b < 1e6 * 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 30).toExponential(1)} GiB`);
  for (const [kind, limit, what] of [['wasm', WASM_MEMORY_BYTES, "the wasm backend's 4 GiB memory"], ['js', machineBytes, `this machine's ${gib(machineBytes)} of memory`]] as const) {
    if (need[kind] <= limit) continue;
    const paramBytes = paramModel * (pool(t.model) === kind ? bytes(t.model) : 0) + paramMaster * (pool(t.master) === kind ? bytes(t.master) : 0);
    const detail = `at least ${gib(need[kind])}, ${gib(paramBytes)} of it parameters, gradients and Adam moments`;
    if (paramBytes >= need[kind] / 2) {
      throw InputError.field(where, 'parameters', `a model whose training state fits ${what} (numLayers ${L}, hiddenSize ${h}, ffnHiddenSize ${f}, vocabulary ${v}: ${detail})`, P);
    }
    throw InputError.field('trainer', 'microBatchSize × seqLength', `a batch whose activations and token ids fit ${what} (${t.microBatchSize} × ${t.seqLength} rows: ${detail})`, rows);
  }
}

/**
 * Checks a batch of token sequences: `rows` sequences of `width` ids, every id an integer in [0, vocab).
 * Accepts any array of numbers so NaN or fractions are reported rather than silently truncated.
 */
export function validateTokens(tokens: ArrayLike<number>, rows: number, width: number, vocab: number, where = 'tokens'): void {
  if (tokens.length !== rows * width) {
    throw InputError.field(where, 'length', `${rows} sequences × ${width} tokens = ${rows * width}`, tokens.length);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= vocab) {
      throw InputError.field(where, `[${i}] (sequence ${Math.floor(i / width)}, position ${i % width})`, `an integer token id in [0, ${vocab})`, t);
    }
  }
}

/** Throws when a buffer holds NaN or ±Inf, naming the tensor and the first bad index. */
export function assertFinite(name: string, x: FloatBuf, n = x.length): void {
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!)) throw InputError.field(name, `[${i}]`, 'a finite value', x[i]);
  }
}
