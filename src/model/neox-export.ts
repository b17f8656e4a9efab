import { InputError } from '../common/errors.js';
import { checkTensorParallel, paddedVocabSize, type NeoXConfig } from './config.js';
import { normalizeKey, TOKENIZER_VOCAB, type NeoxRun } from './neox-args.js';

/**
 * Writes a NeoxRun as a gpt-neox config file with gpt-neox's own key names (spelled as in configs/20B.yml),
 * grouped and commented like the files EleutherAI ships, so a plan can run on the real engine and be
 * re-imported. Keys neox-sim does not model (`extra`) are written back unchanged.
 */
export interface ExportOptions {
  /** Tensor- and pipeline-parallel degrees of the plan (default: the run's own). */
  tp?: number;
  pp?: number;
  /** First comment line(s), e.g. what produced the file. */
  header?: string;
}

type Entries = [string, unknown][];

/** A value gpt-neox types as float: written with a decimal point even when whole (1.0, not 1). */
class Float {
  constructor(readonly value: number) {}
}
const f = (x: number) => new Float(x);

export function exportNeoxYaml(run: NeoxRun, opts: ExportOptions = {}): string {
  const tp = opts.tp ?? run.parallel.modelParallelSize;
  const pp = opts.pp ?? run.parallel.pipeParallelSize;
  const m = run.model;
  const t = run.training;
  checkTensorParallel(m, tp);
  const extra = new Map(Object.entries(run.extra).map(([k, v]) => [normalizeKey(k), { key: k, value: v }]));
  /** Known dicts merge their passed-through leftovers back in. */
  const withLeftovers = (name: string, known: Record<string, unknown>) => {
    const left = extra.get(name);
    extra.delete(name);
    return { ...known, ...((left?.value as Record<string, unknown> | undefined) ?? {}) };
  };

  const sections: [string, Entries][] = [
    ['parallelism settings', [
      ['pipe-parallel-size', pp],
      ['model-parallel-size', tp],
      ['pipe-partition-method', run.parallel.pipePartitionMethod],
    ]],
    ['model settings', modelEntries(m, tp, extra)],
    ['optimizer settings', [
      ['optimizer', optimizerEntry(run, withLeftovers)],
      ['min_lr', f(t.minLr)],
      ['zero_optimization', withLeftovers('zero_optimization', {
        stage: t.zeroStage, allgather_bucket_size: t.allgatherBucketSize, overlap_comm: t.overlapComm,
        reduce_scatter: t.reduceScatter, reduce_bucket_size: t.reduceBucketSize, contiguous_gradients: t.contiguousGradients,
      })],
    ]],
    ['batch settings', [
      ...(t.trainMicroBatchSize !== undefined ? [['train_micro_batch_size_per_gpu', t.trainMicroBatchSize] as [string, unknown]] : []),
      ['gradient_accumulation_steps', t.gradientAccumulationSteps],
      ...(t.globalBatch !== undefined ? [['train_batch_size', t.globalBatch] as [string, unknown]] : []),
    ]],
    ['activation checkpointing', [
      ['checkpoint-activations', t.checkpointActivations],
      ['checkpoint-num-layers', t.checkpointNumLayers],
      ['partition-activations', t.partitionActivations],
    ]],
    ['regularization', [
      ['gradient_clipping', f(t.gradientClipping)],
      ['weight-decay', f(t.weightDecay)],
      ['hidden-dropout', f(t.hiddenDropout)],
      ['attention-dropout', f(t.attentionDropout)],
    ]],
    ['precision settings', precisionEntries(run, withLeftovers)],
    ['training schedule', [
      ...(t.trainIters !== undefined ? [['train-iters', t.trainIters] as [string, unknown]] : []),
      ...(t.lrDecayIters !== undefined ? [['lr-decay-iters', t.lrDecayIters] as [string, unknown]] : []),
      ['lr-decay-style', t.lrDecayStyle],
      ['warmup', f(t.warmup)],
      ...(t.saveInterval !== undefined ? [['save-interval', t.saveInterval] as [string, unknown]] : []),
      ['eval-interval', t.evalInterval],
      ['eval-iters', t.evalIters],
      ['seed', t.seed],
    ]],
  ];
  const passed: Entries = [...extra.values()].map((e) => [e.key, e.value]);
  if (passed.length) sections.push(['passed through unchanged', passed]);

  const lines = [
    ...(opts.header ?? `GPT-NeoX config for ${m.name}, written by neox-sim`).split('\n').map((l) => `# ${l}`),
    `# neox-sim: vocab-size=${m.vocabSize} (tokenizer ids; gpt-neox reads the size from the tokenizer file)`,
    '',
    '{',
  ];
  sections.forEach(([title, entries], i) => {
    lines.push(`  # ${title}`);
    for (const [key, value] of entries) lines.push(`  ${JSON.stringify(key)}: ${yamlValue(value, '  ')},`);
    if (i < sections.length - 1) lines.push('');
  });
  lines.push('}', '');
  return lines.join('\n');
}

function modelEntries(m: NeoXConfig, tp: number, extra: Map<string, { key: string; value: unknown }>): Entries {
  const entries: Entries = [
    ['num-layers', m.numLayers],
    ['hidden-size', m.hiddenSize],
    ['num-attention-heads', m.numHeads],
    ['seq-length', m.seqLength],
    ['max-position-embeddings', m.maxPositionEmbeddings],
    ['norm', 'layernorm'],
    ['pos-emb', m.positionEmbedding ?? 'rotary'],
    ['rotary_pct', f(m.rotaryPct)],
    ['rotary-emb-base', m.rotaryEmbBase],
    ['no-weight-tying', !m.tieWordEmbeddings],
    ['gpt_j_residual', m.parallelResidual],
    ['output_layer_parallelism', 'column'],
    ['activation', 'gelu'],
    // gpt-neox's fused bias-GELU is the tanh form; without it, F.gelu is the exact erf form.
    ['bias-gelu-fusion', m.activation === 'gelu-tanh'],
    ['layernorm-epsilon', f(m.layernormEpsilon)],
    ['make-vocab-size-divisible-by', vocabDivisorFor(m, tp)],
    ['init_method', m.initMethod],
    ['output_layer_init_method', m.outputLayerInitMethod],
    ['init-method-std', f(m.initMethodStd)],
  ];
  // Later gpt-neox only; written when the MLP is not the usual 4h.
  if (m.ffnHiddenSize !== 4 * m.hiddenSize) entries.push(['intermediate_size', m.ffnHiddenSize]);
  // The op list models Megatron's fused softmax, so ask for it unless the file says otherwise.
  const fusion = 'scaled_upper_triang_masked_softmax_fusion';
  if (!extra.has(fusion)) entries.push(['scaled-upper-triang-masked-softmax-fusion', true]);
  const tokenizer = Object.entries(TOKENIZER_VOCAB).find(([, v]) => v === m.vocabSize)?.[0];
  if (!extra.has('tokenizer_type') && tokenizer && tokenizer !== 'GPT2BPETokenizer') entries.push(['tokenizer_type', tokenizer]);
  return entries;
}

function optimizerEntry(run: NeoxRun, withLeftovers: (name: string, known: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  const t = run.training;
  const { params: leftParams, ...rest } = withLeftovers('optimizer', {}) as { params?: Record<string, unknown> };
  return { type: t.optimizerType, ...rest, params: { lr: f(t.lr), betas: t.adamBetas.map(f), eps: f(t.adamEps), ...leftParams } };
}

function precisionEntries(run: NeoxRun, withLeftovers: (name: string, known: Record<string, unknown>) => Record<string, unknown>): Entries {
  const t = run.training;
  const s = t.lossScaler;
  if (t.precision === 'fp16') {
    return [['fp16', withLeftovers('fp16', {
      enabled: true, loss_scale: s.dynamic ? 0 : s.staticScale, loss_scale_window: s.window,
      initial_scale_power: s.initialScalePower, hysteresis: s.hysteresis, min_loss_scale: s.minScale,
    })]];
  }
  if (t.precision === 'bf16') return [['bf16', withLeftovers('bf16', { enabled: true })]];
  return [];
}

/**
 * The make_vocab_size_divisible_by that makes gpt-neox pad the tokenizer to exactly the model's rows at
 * TP = `tp` (gpt-neox pads to a multiple of that × TP): the model's own setting if it still works, else
 * the smallest power of two that does (NeoX-20B's 50432 rows: 256 at TP 1, 64 at TP 4), else any.
 */
export function vocabDivisorFor(cfg: NeoXConfig, tp: number): number {
  const rows = paddedVocabSize(cfg, tp);
  const works = (d: number) => Math.ceil(cfg.vocabSize / (d * tp)) * d * tp === rows;
  if (works(cfg.makeVocabSizeDivisibleBy)) return cfg.makeVocabSizeDivisibleBy;
  for (let d = 1; d * tp <= rows; d *= 2) if (works(d)) return d;
  for (let d = 1; d * tp <= rows; d++) if (works(d)) return d;
  throw InputError.field(cfg.name, 'embedding rows', `a padding of the ${cfg.vocabSize}-id vocabulary gpt-neox can produce at TP ${tp}`, rows);
}

/** JSON-style YAML that PyYAML reads back with the same types (floats keep a '.' before the exponent). */
function yamlValue(v: unknown, indent: string): string {
  if (v instanceof Float) {
    const s = yamlValue(v.value, indent);
    return /[.e]/.test(s) ? s : `${s}.0`;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} to a gpt-neox config`);
    const s = String(v);
    return /e/.test(s) && !/\./.test(s) ? s.replace('e', '.0e') : s;
  }
  if (Array.isArray(v)) return `[${v.map((x) => yamlValue(x, indent)).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const inner = `${indent}  `;
    const items = Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${yamlValue(x, inner)}`);
    return items.length ? `{\n${items.join(',\n')}\n${indent}}` : '{}';
  }
  return JSON.stringify(v ?? null);
}
