import { InputError } from '../common/errors.js';
import { checkTensorParallel, type NeoXConfig } from '../model/config.js';
import type { NeoxRun } from '../model/neox-args.js';
import { pipelineStages } from '../model/pipeline-partition.js';
import { globalBatch, planGpus, type Axis, type Plan } from './plan-types.js';

export * from './plan-types.js';

/** gpt-neox's PipeModelDataParallelTopology order (megatron/initialize.py): pipe outermost, model innermost. */
export const GPT_NEOX_RANK_ORDER: readonly [Axis, Axis, Axis] = ['pipe', 'data', 'model'];

/** DeepSpeed's defaults where a plan leaves a field out (zero/config.py: both bucket sizes 5e8 elements). */
export function makePlan(cfg: NeoXConfig, fields: Partial<Plan> = {}): Plan {
  const schedule = fields.schedule ?? '1f1b';
  return {
    tp: 1, pp: 1, dp: 1, microBatch: 1, gradAccumSteps: 1, seqLength: cfg.seqLength,
    zeroStage: 0, recompute: 'none', schedule, virtualStages: schedule === 'interleaved' ? 2 : 1,
    rankOrder: GPT_NEOX_RANK_ORDER, reduceBucketSize: 5e8, allgatherBucketSize: 5e8, overlapComm: false,
    precision: 'fp16', p2p: schedule === 'interleaved' ? 'async' : 'sync-broadcast',
    partitionMethod: 'type:transformer|mlp', hiddenDropout: 0, attentionDropout: 0, unevenPipeline: false, ppScatterGather: false,
    ...fields,
  };
}

export interface PlanCheckOptions {
  /** Names the plan's origin in messages (a config file, "plan", a CLI). */
  source?: string;
  /** How the user spelled a field (a CLI flag or gpt-neox key); defaults to the Plan field name. */
  fieldName?: (field: keyof Plan) => string;
  /** GPUs of the cluster the plan must fill exactly. */
  gpus?: number;
  /** A global batch the plan must produce (DeepSpeed train_batch_size). */
  globalBatch?: number;
}

export interface PlanCheck {
  /** Allowed but noteworthy: what gpt-neox 2022 could not have run, and why. */
  warnings: string[];
}

/** Bound on `stepUnits`: 16.8 M, 1.8× the largest published run (Megatron 1T on 3,072 GPUs, 57 M tasks). */
export const MAX_STEP_UNITS = 2 ** 24;

/** The size of the simulated step's task graph, roughly in units of 6 tasks: GPUs × micro-batches × (layers per stage + 4). */
export function stepUnits(cfg: NeoXConfig, plan: Plan): number {
  return planGpus(plan) * plan.gradAccumSteps * (Math.ceil(cfg.numLayers / plan.pp) + 4);
}

const CHOICES = {
  zeroStage: [0, 1, 2, 3],
  recompute: ['none', 'selective', 'full'],
  schedule: ['1f1b', 'gpipe', 'interleaved'],
  precision: ['fp16', 'bf16'],
  p2p: ['sync-broadcast', 'async'],
} as const;

/**
 * Checks that the plan can run the model; every impossible plan gets one InputError naming the violated
 * constraint. Returns warnings for plans that are possible but were not possible in gpt-neox 2022.
 */
export function validatePlan(cfg: NeoXConfig, plan: Plan, opts: PlanCheckOptions = {}): PlanCheck {
  const src = opts.source ?? 'plan';
  const name = opts.fieldName ?? ((f: keyof Plan) => f);
  const fail = (field: keyof Plan, expected: string, got: unknown): never => {
    throw InputError.field(src, name(field), expected, got);
  };
  for (const f of ['tp', 'pp', 'dp', 'microBatch', 'gradAccumSteps', 'seqLength', 'virtualStages'] as const) {
    if (!Number.isSafeInteger(plan[f]) || plan[f] < 1) fail(f, 'a positive integer', plan[f]);
  }
  for (const [f, choices] of Object.entries(CHOICES) as [keyof typeof CHOICES, readonly unknown[]][]) {
    if (!choices.includes(plan[f])) fail(f, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, plan[f]);
  }
  const order = plan.rankOrder;
  if (!Array.isArray(order) || order.length !== 3 || !['pipe', 'data', 'model'].every((a) => order.includes(a as Axis))) {
    fail('rankOrder', 'a permutation of pipe, data, model (outermost first)', Array.isArray(order) ? order.join(',') : order);
  }
  for (const f of ['reduceBucketSize', 'allgatherBucketSize'] as const) {
    if (!Number.isFinite(plan[f]) || plan[f] < plan.dp || plan[f] < 1) {
      fail(f, `a number of elements ≥ the data-parallel degree (${plan.dp}) (DeepSpeed asserts max_elements_per_comm ≥ dp)`, plan[f]);
    }
  }
  if (typeof plan.overlapComm !== 'boolean') fail('overlapComm', 'true or false', plan.overlapComm);
  for (const f of ['unevenPipeline', 'ppScatterGather', 'sequenceParallel'] as const) {
    if (plan[f] !== undefined && typeof plan[f] !== 'boolean') fail(f, 'true or false (or left out)', plan[f]);
  }
  for (const f of ['hiddenDropout', 'attentionDropout'] as const) {
    if (!(plan[f] >= 0 && plan[f] < 1)) fail(f, 'a probability in [0, 1)', plan[f]);
  }
  if (plan.seqLength > cfg.maxPositionEmbeddings) {
    fail('seqLength', `at most max-position-embeddings (${cfg.maxPositionEmbeddings})`, plan.seqLength);
  }

  // Tensor parallelism splits heads, MLP width and vocabulary rows evenly (Megatron mpu).
  try {
    checkTensorParallel(cfg, plan.tp, src);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.message.replace('tensor-parallel size', name('tp')));
    throw e;
  }

  // Pipeline: DeepSpeed partition_balanced over gpt-neox's layer list gives every stage ≥ 1 layer only if pp ≤ layers.
  const chunks = plan.pp * plan.virtualStages;
  if (plan.pp > cfg.numLayers) fail('pp', `at most num-layers (${cfg.numLayers}): every stage needs a transformer layer`, plan.pp);
  if (plan.schedule !== 'interleaved' && cfg.numLayers % plan.pp !== 0 && !plan.unevenPipeline) {
    fail('pp', `a divisor of num-layers (${cfg.numLayers}) (equal stages; ${name('unevenPipeline')} accepts gpt-neox's uneven "${plan.partitionMethod}" partition)`, plan.pp);
  }
  if (plan.schedule === 'interleaved') {
    if (plan.pp < 2) fail('schedule', '"1f1b" or "gpipe" with pp = 1 (interleaving needs pipeline stages)', plan.schedule);
    if (plan.virtualStages < 2) fail('virtualStages', 'at least 2 model chunks per stage for the interleaved schedule', plan.virtualStages);
    if (cfg.numLayers % chunks !== 0) {
      fail('virtualStages', `a value with num-layers (${cfg.numLayers}) divisible by pp × virtualStages (Megatron interleaving)`, `${plan.virtualStages} (pp × v = ${chunks})`);
    }
    if (plan.gradAccumSteps % plan.pp !== 0) {
      fail('gradAccumSteps', `a multiple of pp (${plan.pp}) for the interleaved schedule (Megatron)`, plan.gradAccumSteps);
    }
    if (plan.p2p === 'sync-broadcast') {
      fail('p2p', '"async" for the interleaved schedule (synchronous broadcasts deadlock on the last → first stage wrap; Megatron batches isend/irecv)', plan.p2p);
    }
  } else if (plan.virtualStages !== 1) {
    fail('virtualStages', '1 unless the schedule is "interleaved"', plan.virtualStages);
  }
  if (plan.schedule !== 'interleaved') pipelineStages(cfg, plan.pp, plan.tp, plan.partitionMethod);
  if (plan.sequenceParallel === true) {
    if (plan.tp < 2) fail('sequenceParallel', 'false unless tp > 1 (sequence parallelism splits the sequence over the tensor-parallel ranks)', true);
    if (plan.seqLength % plan.tp !== 0) {
      fail('seqLength', `a multiple of tp (${plan.tp}) with sequence parallelism (each TP rank holds s/tp tokens)`, plan.seqLength);
    }
  }

  if (opts.gpus !== undefined && planGpus(plan) !== opts.gpus) {
    fail('dp', `tp × pp × dp = the cluster's ${opts.gpus} GPUs (tp ${plan.tp} × pp ${plan.pp} × dp ${plan.dp} = ${planGpus(plan)})`, plan.dp);
  }
  if (opts.globalBatch !== undefined && globalBatch(plan) !== opts.globalBatch) {
    fail('gradAccumSteps', `micro-batch × gradient accumulation × dp = the global batch ${opts.globalBatch} (${plan.microBatch} × ${plan.gradAccumSteps} × ${plan.dp} = ${globalBatch(plan)})`, plan.gradAccumSteps);
  }
  // The simulated step holds tasks per GPU, micro-batch and layer: a step beyond this bound cannot be built in memory.
  if (stepUnits(cfg, plan) > MAX_STEP_UNITS) {
    fail('gradAccumSteps', `a step small enough to simulate: GPUs × gradient accumulation × (layers per stage + 4) at most ${MAX_STEP_UNITS.toLocaleString('en-US')} (the published 1T run: 9.4 M; this plan: ${stepUnits(cfg, plan).toExponential(2)})`, plan.gradAccumSteps);
  }

  const warnings: string[] = [];
  if (plan.zeroStage >= 2 && plan.pp > 1) {
    warnings.push(`ZeRO stage ${plan.zeroStage} with pipeline parallelism: DeeperSpeed 0.3.15's PipelineEngine supports ZeRO < 2 only, so gpt-neox 2022 could not run this plan`);
  }
  if (plan.schedule !== '1f1b' && plan.pp > 1) {
    warnings.push(`the ${plan.schedule} schedule: gpt-neox 2022 ran DeepSpeed's 1F1B TrainSchedule only`);
  }
  if (plan.recompute === 'selective') warnings.push('selective recompute (Korthikanti et al. 2022) postdates gpt-neox 2022, which checkpointed whole layers');
  if (plan.sequenceParallel === true) warnings.push('sequence parallelism (Korthikanti et al. 2022) postdates gpt-neox 2022, which all-reduced whole activations over TP');
  return { warnings };
}

export interface NeoxPlanOptions {
  /** GPUs to fill; DP = gpus / (TP × PP). */
  gpus: number;
  /** Overrides applied after reading the file (e.g. a different rank order). */
  overrides?: Partial<Plan>;
}

/**
 * The plan a gpt-neox config describes (configs/20B.yml keys): pipe-parallel-size, model-parallel-size,
 * train_micro_batch_size_per_gpu, gradient_accumulation_steps, zero_optimization (stage, bucket sizes,
 * overlap_comm), checkpoint-activations and the fp16/bf16 section. DP follows from the GPU count.
 */
export function planFromNeoxRun(run: NeoxRun, file: string, opts: NeoxPlanOptions): { plan: Plan; check: PlanCheck } {
  const t = run.training;
  const tp = run.parallel.modelParallelSize;
  const pp = Math.max(1, run.parallel.pipeParallelSize);
  if (!Number.isInteger(opts.gpus) || opts.gpus < 1) throw InputError.field(file, 'GPUs', 'a positive integer', opts.gpus);
  if (opts.gpus % (tp * pp) !== 0) {
    throw InputError.field(file, 'model-parallel-size × pipe-parallel-size', `a divisor of the cluster's ${opts.gpus} GPUs`, `${tp} × ${pp} = ${tp * pp}`);
  }
  const dp = opts.gpus / (tp * pp);
  const gas = t.gradientAccumulationSteps;
  let microBatch = t.trainMicroBatchSize;
  if (microBatch === undefined) {
    if (t.globalBatch === undefined) throw InputError.field(file, 'train_micro_batch_size_per_gpu', 'a positive integer (or train_batch_size)', undefined);
    if (t.globalBatch % (gas * dp) !== 0) {
      throw InputError.field(file, 'train_batch_size', `a multiple of gradient_accumulation_steps × dp (${gas} × ${dp})`, t.globalBatch);
    }
    microBatch = t.globalBatch / (gas * dp);
  }
  if (t.checkpointActivations && t.checkpointNumLayers !== 1) {
    throw InputError.field(file, 'checkpoint-num-layers', '1 (per-layer checkpointing, the form neox-sim models)', t.checkpointNumLayers);
  }
  if (t.precision === 'fp32') throw InputError.field(file, 'fp16.enabled', 'true (or bf16.enabled): neox-sim models 16-bit mixed precision', false);
  if (![0, 1, 2, 3].includes(t.zeroStage)) throw InputError.field(file, 'zero_optimization.stage', '0, 1, 2 or 3', t.zeroStage);
  const plan = makePlan(run.model, {
    tp, pp, dp, microBatch, gradAccumSteps: gas,
    zeroStage: t.zeroStage as Plan['zeroStage'],
    recompute: t.checkpointActivations ? 'full' : 'none',
    reduceBucketSize: t.reduceBucketSize, allgatherBucketSize: t.allgatherBucketSize, overlapComm: t.overlapComm,
    precision: t.precision, partitionMethod: run.parallel.pipePartitionMethod,
    hiddenDropout: t.hiddenDropout, attentionDropout: t.attentionDropout,
    ...opts.overrides,
  });
  const check = validatePlan(run.model, plan, { source: file, gpus: opts.gpus, globalBatch: t.globalBatch });
  return { plan, check };
}
