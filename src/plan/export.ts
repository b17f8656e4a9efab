import { readFileSync } from 'node:fs';
import { InputError } from '../common/errors.js';
import { defaultTraining, type NeoxRun } from '../model/neox-args.js';
import { exportNeoxYaml } from '../model/neox-export.js';
import { importNeoxYaml } from '../model/neox-yaml.js';
import { planFromNeoxRun, type Axis, type Plan } from '../workload/plan.js';
import { neox2022Limit } from './enumerate.js';

/**
 * A plan as a gpt-neox config (gpt-neox's own key names, via the model layer's exporter), and back.
 * gpt-neox has keys for TP, PP, micro-batch, GAS, ZeRO (stage, buckets, overlap), full activation
 * checkpointing, precision and dropout. What it has no key for — the schedule, interleaving chunks, the rank
 * order, selective recompute, asynchronous P2P, an uneven pipeline, sequence parallelism — goes on a comment line gpt-neox ignores
 * and `importPlan` reads, so the file re-imports to the same plan.
 */
const MARK = 'neox-sim plan:';

export function exportPlan(base: NeoxRun, plan: Plan, steps: number, header: string): string {
  const run: NeoxRun = {
    ...base,
    model: { ...base.model, seqLength: plan.seqLength, maxPositionEmbeddings: Math.max(base.model.maxPositionEmbeddings, plan.seqLength) },
    parallel: { ...base.parallel, pipeParallelSize: plan.pp, modelParallelSize: plan.tp, pipePartitionMethod: plan.partitionMethod },
    training: {
      ...base.training,
      trainIters: steps,
      trainMicroBatchSize: plan.microBatch,
      gradientAccumulationSteps: plan.gradAccumSteps,
      globalBatch: plan.microBatch * plan.gradAccumSteps * plan.dp,
      zeroStage: plan.zeroStage,
      reduceBucketSize: plan.reduceBucketSize,
      allgatherBucketSize: plan.allgatherBucketSize,
      overlapComm: plan.overlapComm,
      checkpointActivations: plan.recompute === 'full',
      checkpointNumLayers: 1,
      precision: plan.precision,
      hiddenDropout: plan.hiddenDropout,
      attentionDropout: plan.attentionDropout,
    },
  };
  const marks = [
    `schedule=${plan.schedule}`, `virtual-stages=${plan.virtualStages}`, `rank-order=${plan.rankOrder.join(',')}`,
    `recompute=${plan.recompute}`, `p2p=${plan.p2p}`, `uneven-pipeline=${plan.unevenPipeline === true}`, `data-parallel=${plan.dp}`,
  ];
  // gpt-neox 2022 has no sequence-parallel key: marked only when on, so other exports stay as they were.
  if (plan.sequenceParallel === true) marks.push('sequence-parallel=true');
  const limit = neox2022Limit(plan);
  const lines = [header, `${MARK} ${marks.join(' ')}`];
  if (limit) lines.push(`note: gpt-neox 2022 cannot run ${limit}; the keys above are what it reads`);
  return exportNeoxYaml(run, { tp: plan.tp, pp: plan.pp, header: lines.join('\n') });
}

/** A preset model as a gpt-neox run with gpt-neox's defaults for everything else. */
export function presetRun(model: NeoxRun['model']): NeoxRun {
  return { model, training: defaultTraining(), parallel: { pipeParallelSize: 1, modelParallelSize: 1, pipePartitionMethod: 'type:transformer|mlp' }, extra: {} };
}

/** Reads a config written by `exportPlan` (or any gpt-neox config) back into a plan for `gpus` GPUs. */
export function importPlan(file: string, gpus: number): { run: NeoxRun; plan: Plan } {
  const run = importNeoxYaml([file]);
  const overrides = readMarks(readFileSync(file, 'utf8'), file);
  const { plan } = planFromNeoxRun(run, file, { gpus, overrides });
  return { run, plan };
}

function readMarks(text: string, file: string): Partial<Plan> {
  const line = text.split('\n').find((l) => l.startsWith(`# ${MARK}`));
  if (!line) return {};
  const kv = new Map(line.slice(MARK.length + 2).trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  const bad = (k: string, expected: string): never => {
    throw InputError.field(file, `"${MARK}" ${k}`, expected, kv.get(k));
  };
  const out: Partial<Plan> = {};
  const schedule = kv.get('schedule');
  if (schedule !== undefined) {
    if (!['1f1b', 'gpipe', 'interleaved'].includes(schedule)) bad('schedule', '1f1b, gpipe or interleaved');
    out.schedule = schedule as Plan['schedule'];
  }
  const v = kv.get('virtual-stages');
  if (v !== undefined) {
    if (!/^[1-9]\d*$/.test(v)) bad('virtual-stages', 'a positive integer');
    out.virtualStages = Number(v);
  }
  const order = kv.get('rank-order');
  if (order !== undefined) {
    const axes = order.split(',');
    if (axes.length !== 3 || !['pipe', 'data', 'model'].every((a) => axes.includes(a))) bad('rank-order', 'a permutation of pipe,data,model');
    out.rankOrder = axes as [Axis, Axis, Axis];
  }
  const recompute = kv.get('recompute');
  if (recompute !== undefined) {
    if (!['none', 'selective', 'full'].includes(recompute)) bad('recompute', 'none, selective or full');
    out.recompute = recompute as Plan['recompute'];
  }
  const p2p = kv.get('p2p');
  if (p2p !== undefined) {
    if (!['sync-broadcast', 'async'].includes(p2p)) bad('p2p', 'sync-broadcast or async');
    out.p2p = p2p as Plan['p2p'];
  }
  const uneven = kv.get('uneven-pipeline');
  if (uneven !== undefined) {
    if (!['true', 'false'].includes(uneven)) bad('uneven-pipeline', 'true or false');
    out.unevenPipeline = uneven === 'true';
  }
  const sp = kv.get('sequence-parallel');
  if (sp !== undefined) {
    if (!['true', 'false'].includes(sp)) bad('sequence-parallel', 'true or false');
    out.sequenceParallel = sp === 'true';
  }
  return out;
}
