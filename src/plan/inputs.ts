import { basename, extname } from 'node:path';
import { InputError } from '../common/errors.js';
import type { NeoXConfig } from '../model/config.js';
import type { NeoxRun } from '../model/neox-args.js';
import { importNeoxYaml } from '../model/neox-yaml.js';
import { getPreset, PRESETS } from '../model/presets.js';
import { defaultRunSettings, NEOX_20B_PLAN, type RunSettings } from '../sim/run/run-settings.js';
import { makePlan, planFromNeoxRun, type Plan } from '../workload/plan.js';
import { presetRun } from './export.js';

/**
 * What a sweep takes from the model the user names: the model, the settings every plan shares (bucket
 * sizes, overlap, precision, partition, dropout, sequence length), the global batch, the run's settings,
 * and the plan the run actually used, to compare with. A preset takes DeepSpeed's defaults, except
 * neox-20b, which takes configs/20B.yml's (neox-20b.md §2.1); a gpt-neox config takes its own.
 */
export interface ModelInputs {
  cfg: NeoXConfig;
  /** How the user named it: the preset, or the config files' names. */
  label: string;
  base: Partial<Plan>;
  /** The gpt-neox run an exported plan is written over. */
  run: NeoxRun;
  settings: RunSettings;
  globalBatch: number;
  reference?: { plan: Plan; label: string };
  /** Why the run's own plan cannot be compared, when it cannot. */
  referenceMissing?: string;
}

export interface ModelChoice {
  /** A preset name (default neox-20b), or gpt-neox config files. */
  model?: string;
  config?: string[];
  globalBatch?: number;
  seqLength?: number;
  steps?: number;
  /** GPUs of the cluster (the run's own plan must fill them). */
  gpus: number;
  /** Names the source in messages (the CLI command). */
  source: string;
}

export function modelInputs(c: ModelChoice): ModelInputs {
  const seq = c.seqLength !== undefined ? { seqLength: c.seqLength } : {};
  const out = c.config ? fromConfig(c.config, c, seq) : fromPreset(c.model ?? 'neox-20b', c, seq);
  if (c.seqLength !== undefined) {
    if (c.seqLength > out.cfg.maxPositionEmbeddings) throw InputError.field(c.source, '--seq', `at most max-position-embeddings (${out.cfg.maxPositionEmbeddings})`, c.seqLength);
    out.base.seqLength = c.seqLength;
  }
  if (c.steps !== undefined) out.settings = { ...out.settings, steps: c.steps };
  return out;
}

function fromConfig(files: string[], c: ModelChoice, seq: Partial<Plan>): ModelInputs {
  const run = importNeoxYaml(files);
  const t = run.training;
  const src = files.join(' + ');
  const tp = run.parallel.modelParallelSize;
  const pp = Math.max(1, run.parallel.pipeParallelSize);
  const dp = c.gpus / (tp * pp);
  const globalBatch = c.globalBatch ?? t.globalBatch ?? (t.trainMicroBatchSize !== undefined && Number.isInteger(dp) ? t.trainMicroBatchSize * t.gradientAccumulationSteps * dp : undefined);
  if (globalBatch === undefined) throw InputError.field(src, 'train_batch_size', 'a global batch (or train_micro_batch_size_per_gpu with a plan that divides the GPUs), or --global-batch');
  const out: ModelInputs = {
    cfg: run.model,
    label: files.map((f) => basename(f, extname(f))).join('+'),
    base: {
      reduceBucketSize: t.reduceBucketSize, allgatherBucketSize: t.allgatherBucketSize, overlapComm: t.overlapComm,
      precision: t.precision === 'bf16' ? 'bf16' : 'fp16', partitionMethod: run.parallel.pipePartitionMethod,
      hiddenDropout: t.hiddenDropout, attentionDropout: t.attentionDropout,
    },
    run,
    settings: {
      ...defaultRunSettings(), ...(t.trainIters ? { steps: t.trainIters } : {}), evalInterval: t.evalInterval, evalIters: t.evalIters,
      ...(t.saveInterval !== undefined ? { saveInterval: t.saveInterval } : {}),
    },
    globalBatch,
  };
  // The file's plan at this global batch: its micro-batch, with the accumulation the batch implies.
  try {
    const gas = globalBatch / ((t.trainMicroBatchSize ?? 1) * dp);
    const adjusted: NeoxRun = { ...run, training: { ...t, globalBatch, gradientAccumulationSteps: Number.isInteger(gas) ? gas : t.gradientAccumulationSteps } };
    out.reference = { plan: planFromNeoxRun(adjusted, src, { gpus: c.gpus, overrides: seq }).plan, label: `the plan of ${src}` };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    out.referenceMissing = `the plan of ${src} cannot run here: ${e.message}`;
  }
  return out;
}

function fromPreset(name: string, c: ModelChoice, seq: Partial<Plan>): ModelInputs {
  if (!PRESETS[name]) throw InputError.field(c.source, '--model', `one of ${Object.keys(PRESETS).join(', ')}`, name);
  const cfg = getPreset(name);
  if (name !== 'neox-20b') {
    if (c.globalBatch === undefined) throw InputError.field(c.source, '--global-batch', `sequences per step for ${name} (no published global batch for this preset)`);
    return { cfg, label: name, base: {}, run: presetRun(cfg), settings: defaultRunSettings(), globalBatch: c.globalBatch };
  }
  // configs/20B.yml: micro-batch 4 × GAS 32 × DP 12 = 1536 sequences; buckets 1.26e9 elements; overlap_comm.
  const globalBatch = c.globalBatch ?? NEOX_20B_PLAN.microBatch * NEOX_20B_PLAN.gradAccumSteps * 12;
  const out: ModelInputs = {
    cfg, label: name, run: presetRun(cfg), settings: defaultRunSettings(), globalBatch,
    base: { reduceBucketSize: NEOX_20B_PLAN.reduceBucketSize, allgatherBucketSize: NEOX_20B_PLAN.allgatherBucketSize, overlapComm: NEOX_20B_PLAN.overlapComm },
  };
  const dp = c.gpus / (NEOX_20B_PLAN.tp * NEOX_20B_PLAN.pp);
  const gas = globalBatch / (NEOX_20B_PLAN.microBatch * dp);
  if (Number.isInteger(dp) && Number.isInteger(gas)) {
    out.reference = {
      plan: makePlan(cfg, { ...NEOX_20B_PLAN, dp, gradAccumSteps: gas, ...seq }),
      label: "GPT-NeoX-20B's plan (configs/20B.yml: TP 2, PP 4, micro-batch 4, ZeRO 1, full recompute, 1F1B, pipe,data,model)",
    };
  } else out.referenceMissing = `GPT-NeoX-20B's plan (TP 2, PP 4, micro-batch 4) does not divide ${c.gpus} GPUs and a global batch of ${globalBatch}`;
  return out;
}
