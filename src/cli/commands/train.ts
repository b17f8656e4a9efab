/** `neox-sim train`: train a NeoX preset with the numerically exact reference trainer. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { backendNames, loadBackend } from '../../backends/registry.js';
import { InputError } from '../../common/errors.js';
import { importNeoxYaml } from '../../model/neox-yaml.js';
import { getPreset } from '../../model/presets.js';
import { loadCheckpoint, saveCheckpoint } from '../../trainer/checkpoint/checkpoint.js';
import { SampleStream } from '../../trainer/data/byte-tokens.js';
import { readIndexedDataset } from '../../trainer/data/indexed-dataset.js';
import { defaultTokenizerName, loadTokenizer, tokenizeFile } from '../../trainer/data/tokenizer.js';
import { PRIDE_AND_PREJUDICE_OPENING } from '../../trainer/data/sample-text.js';
import { LossScaleAtMinimumError } from '../../trainer/optim/loss-scaler.js';
import { PRECISIONS, type Precision } from '../../trainer/precision.js';
import { ATTENTION_VARIANTS, Trainer, type StepResult } from '../../trainer/trainer.js';
import type { AttentionVariant } from '../../backends/kernels.js';

const HELP = `Usage: neox-sim train --model <preset> [options]
       neox-sim train --config model.yml [options]

Trains a NeoX preset with the reference trainer: the exact NeoX layers, AdamW with gpt-neox's parameter
groups, the 2022 AnnealingLR schedule, global-norm clipping and, in fp16, DeepSpeed's dynamic loss scaler.
Text is tokenized with the GPT-NeoX-20B BPE tokenizer (50,277 ids) when the model's vocabulary covers it,
else as UTF-8 bytes (the model's vocabulary must cover every byte, so the 128-id presets need ASCII text);
--data-prefix trains on token ids that gpt-neox's preprocess_data.py or \`neox-sim data preprocess\` wrote.
Output is deterministic: the same options give the same bytes.

Options:
  --model NAME          preset (e.g. neox-tiny, neox-tiny3)
  --config FILE.yml     the model of a gpt-neox YAML config instead of a preset (as \`neox-sim model show\`;
                        repeatable, merged in order)
  --steps N             optimizer steps (default 10)
  --precision P         fp64 | fp32 | fp16 (default fp32); fp16 = fp16 model, fp32 master weights + loss scaler
  --data FILE           training text (default: the opening of Pride and Prejudice, built in)
  --tokenizer T         bytes | neox-20b | FILE.json (a Hugging Face tokenizer.json) (default: neox-20b
                        when the model's vocabulary has its 50,277 ids, e.g. neox-small and the Pythia
                        presets; else bytes)
  --data-prefix P       train on Megatron's indexed dataset P.bin + P.idx (token ids; documents in order)
  --batch N             sequences per micro-batch (default 4)
  --micro-batches N     micro-batches per step, gradient accumulation (default 1)
  --seq N               tokens per sequence (default: the preset's seq length)
  --seed N              init and data-order seed (default 1234)
  --lr X                peak learning rate (default 1e-3)
  --min-lr X            floor of the cosine decay (default lr/10, as the 20B run)
  --warmup F            warmup as a fraction of --steps (default 0.01, as the 20B run)
  --weight-decay X      AdamW weight decay (default 0.01)
  --clip X              gradient clipping by global norm, 0 = off (default 1.0)
  --loss-scale-power N  fp16: initial loss scale 2^N (default 12)
  --backend NAME        kernel backend: wasm (SIMD, all cores) or js (reference) (default wasm)
  --attention V         materialized (default; keeps the probabilities, the 2022 run's path) or flash
                        (memory-lean, recomputes them in the backward; wasm backend, fp32/fp16)
  --load FILE           start from a safetensors checkpoint (HF GPTNeoX names)
  --save FILE           write the final weights as safetensors
  --json                machine-readable output
`;

interface Options {
  model?: string;
  config?: string[];
  steps: number;
  precision: Precision;
  data?: string;
  tokenizer?: string;
  dataPrefix?: string;
  batch: number;
  microBatches: number;
  seq?: number;
  seed: number;
  lr: number;
  minLr?: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  lossScalePower: number;
  backend: string;
  attention: AttentionVariant;
  load?: string;
  save?: string;
  json: boolean;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      model: { type: 'string' },
      config: { type: 'string', multiple: true },
      steps: { type: 'string' },
      precision: { type: 'string' },
      data: { type: 'string' },
      tokenizer: { type: 'string' },
      'data-prefix': { type: 'string' },
      batch: { type: 'string' },
      'micro-batches': { type: 'string' },
      seq: { type: 'string' },
      seed: { type: 'string' },
      lr: { type: 'string' },
      'min-lr': { type: 'string' },
      warmup: { type: 'string' },
      'weight-decay': { type: 'string' },
      clip: { type: 'string' },
      'loss-scale-power': { type: 'string' },
      backend: { type: 'string' },
      attention: { type: 'string' },
      load: { type: 'string' },
      save: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  // An empty path would be skipped as if the flag were absent (no checkpoint saved, the built-in text trained on).
  for (const flag of ['load', 'save', 'data', 'data-prefix'] as const) {
    if (values[flag] === '') throw InputError.field('', `--${flag}`, 'a file path', '');
  }
  if (!values.model && !values.config) throw InputError.field('', '--model', 'a preset name, e.g. neox-tiny (or --config model.yml)');
  if (values.model && values.config) throw InputError.field('', '--config', 'either --model or --config, not both', values.config.join(' '));
  const precision = values.precision ?? 'fp32';
  if (!(PRECISIONS as readonly string[]).includes(precision)) throw InputError.field('', '--precision', PRECISIONS.join(' | '), precision);
  const attention = values.attention ?? 'materialized';
  if (!(ATTENTION_VARIANTS as readonly string[]).includes(attention)) throw InputError.field('', '--attention', ATTENTION_VARIANTS.join(' | '), attention);
  const o: Options = {
    model: values.model,
    config: values.config,
    steps: int('--steps', values.steps, 10, 1),
    precision: precision as Precision,
    data: values.data,
    tokenizer: values.tokenizer,
    dataPrefix: values['data-prefix'],
    batch: int('--batch', values.batch, 4, 1),
    microBatches: int('--micro-batches', values['micro-batches'], 1, 1),
    seq: values.seq === undefined ? undefined : int('--seq', values.seq, 0, 1),
    seed: int('--seed', values.seed, 1234, 0),
    lr: num('--lr', values.lr, 1e-3),
    minLr: values['min-lr'] === undefined ? undefined : num('--min-lr', values['min-lr'], 0),
    warmup: num('--warmup', values.warmup, 0.01),
    weightDecay: num('--weight-decay', values['weight-decay'], 0.01),
    clip: num('--clip', values.clip, 1.0),
    lossScalePower: int('--loss-scale-power', values['loss-scale-power'], 12, 0),
    backend: values.backend ?? 'wasm',
    attention: attention as AttentionVariant,
    load: values.load,
    save: values.save,
    json: values.json ?? false,
  };
  return train(o);
}

async function train(o: Options): Promise<number> {
  const cfg = o.config ? importNeoxYaml(o.config).model : getPreset(o.model!);
  if (!backendNames().includes(o.backend)) throw InputError.field('', '--backend', `one of ${backendNames().join(', ')}`, o.backend);
  const trainer = new Trainer({
    model: cfg,
    precision: o.precision,
    backend: await loadBackend(o.backend),
    seed: o.seed,
    microBatchSize: o.batch,
    gradientAccumulationSteps: o.microBatches,
    seqLength: o.seq,
    optimizer: { weightDecay: o.weightDecay },
    schedule: { lr: o.lr, minLr: o.minLr ?? o.lr / 10, warmupIters: o.warmup * o.steps, decayIters: o.steps, style: 'cosine' },
    clipGrad: o.clip,
    lossScaler: { initialScalePower: o.lossScalePower },
    attention: o.attention,
  });
  const data = readData(o, cfg.vocabSize);
  if (o.load) trainer.setParams(loadCheckpoint(o.load, trainer.model.params.list), o.load);
  const { tokens, source } = data;
  const stream = new SampleStream(tokens, trainer.seqLength, o.seed, source);
  const rows = o.batch * o.microBatches;
  const header = {
    model: cfg.name,
    parameters: trainer.model.params.count(),
    precision: o.precision,
    backend: o.backend,
    attention: o.attention,
    batch: { microBatchSize: o.batch, microBatches: o.microBatches, seqLength: trainer.seqLength },
    data: { source, bytes: data.bytes, tokens: data.tokenizer === 'bytes' ? 'utf-8 bytes' : data.tokenizer, tokenizer: data.tokenizer, tokenCount: tokens.length, ...(data.documents === undefined ? {} : { documents: data.documents }), samples: stream.samples },
  };
  if (!o.json) {
    const kernel = o.attention === 'materialized' ? '' : `, ${o.attention} attention`;
    process.stdout.write(`train ${cfg.name}: ${header.parameters.toLocaleString('en-US')} parameters, ${o.precision}, ${o.backend} backend${kernel}\n`);
    process.stdout.write(`batch ${o.batch} × ${o.microBatches} micro-batch(es) × ${trainer.seqLength} tokens; data ${source}: ${describeData(data)}, ${stream.samples} samples\n`);
    process.stdout.write(`${'step'.padStart(5)}  ${'loss'.padEnd(8)}  ${'lr'.padEnd(10)}  ${'grad-norm'.padEnd(10)}  ${'loss-scale'.padEnd(10)}  skipped\n`);
  }
  const steps: (StepResult & { step: number })[] = [];
  let failure: string | undefined;
  for (let s = 1; s <= o.steps; s++) {
    let r: StepResult;
    try {
      r = trainer.step(stream.take(rows));
    } catch (err) {
      if (!(err instanceof LossScaleAtMinimumError)) throw err;
      failure = `step ${s}: ${err.message}`;
      break;
    }
    steps.push({ step: s, ...r });
    if (!o.json) process.stdout.write(`${formatStep(s, r)}\n`);
  }
  if (o.save) saveCheckpoint(o.save, trainer.model);
  const skipped = steps.filter((s) => s.skipped).length;
  const last = steps.at(-1);
  if (o.json) {
    const json = { ...header, steps: steps.map((s) => ({ ...s, gradNorm: s.skipped ? null : s.gradNorm })), skippedSteps: skipped, finalLoss: last?.loss ?? null, saved: o.save ?? null, error: failure ?? null };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${steps.length} steps, ${skipped} skipped; final loss ${last ? last.loss.toFixed(4) : '-'}${o.save ? `; saved ${o.save}` : ''}\n`);
  }
  if (failure) {
    process.stderr.write(`neox-sim: ${failure}\n`);
    return 1;
  }
  return 0;
}

function formatStep(step: number, r: StepResult): string {
  const norm = r.skipped ? '-' : r.gradNorm.toFixed(4);
  return `${String(step).padStart(5)}  ${r.loss.toFixed(4).padEnd(8)}  ${r.lr.toExponential(3).padEnd(10)}  ${norm.padEnd(10)}  ${String(r.lossScale).padEnd(10)}  ${r.skipped ? 1 : 0}`;
}

interface TrainData {
  tokens: Int32Array;
  source: string;
  /** Bytes of the text file, or of the .bin. */
  bytes: number;
  /** `bytes`, `neox-20b`, a tokenizer.json path, or `indexed` for --data-prefix. */
  tokenizer: string;
  documents?: number;
}

/** The token stream: a text file through --tokenizer, or the token ids of a Megatron indexed dataset. */
function readData(o: Options, modelVocab: number): TrainData {
  if (o.dataPrefix !== undefined) {
    if (o.data !== undefined) throw InputError.field('', '--data-prefix', 'either --data FILE or --data-prefix P, not both', o.dataPrefix);
    if (o.tokenizer !== undefined) throw InputError.field('', '--tokenizer', 'no --tokenizer with --data-prefix (the dataset holds token ids already)', o.tokenizer);
    const ds = readIndexedDataset(o.dataPrefix);
    const bin = `${o.dataPrefix}.bin`;
    for (let i = 0; i < ds.tokens.length; i++) {
      const id = ds.tokens[i]!;
      if (id < 0 || id >= modelVocab) throw InputError.field(bin, `token ${i}`, `an id in [0, ${modelVocab}) (the model's vocabulary)`, id);
    }
    return { tokens: ds.tokens, source: o.dataPrefix, bytes: ds.binBytes, tokenizer: 'indexed', documents: ds.docIdx.length - 1 };
  }
  const tok = loadTokenizer(o.tokenizer ?? defaultTokenizerName(modelVocab));
  const { text, source } = readText(o.data);
  return { tokens: tokenizeFile(tok, text, modelVocab, source), source, bytes: text.length, tokenizer: tok.name };
}

function describeData(d: TrainData): string {
  if (d.tokenizer === 'bytes') return `${d.bytes} bytes as byte tokens`;
  if (d.tokenizer === 'indexed') return `${d.documents} document(s), ${d.tokens.length} tokens (.bin/.idx)`;
  return `${d.bytes} bytes as ${d.tokens.length} ${d.tokenizer} tokens`;
}

function readText(file: string | undefined): { text: Uint8Array; source: string } {
  if (!file) return { text: Buffer.from(PRIDE_AND_PREJUDICE_OPENING, 'utf8'), source: 'built-in Pride and Prejudice opening' };
  try {
    return { text: readFileSync(file), source: file };
  } catch (err) {
    throw InputError.field(file, '', 'a readable text file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
}

function int(flag: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw InputError.field('', flag, `an integer ≥ ${min}`, v);
  return n;
}

function num(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw InputError.field('', flag, 'a finite number ≥ 0', v);
  return n;
}
