import { InputError } from '../common/errors.js';
import { checkTensorParallel, type NeoXConfig } from '../model/config.js';
import type { Recompute } from '../model/ops.js';
import { makePlan, validatePlan } from '../workload/plan.js';
import type { Axis, PipelineSchedule, Plan, ZeroStage } from '../workload/plan-types.js';

/**
 * Every parallel plan of a model on a cluster for a fixed global batch: TP × PP × DP = GPUs, micro-batch ×
 * GAS × DP = global batch, a ZeRO stage, a recompute mode, a pipeline schedule (interleaved with each valid
 * number of model chunks) and a rank order. Candidates that cannot run are dropped by named rules and
 * counted; `validatePlan` (the workload's own checks) is the last word on each one kept.
 */
export type Engine = 'any' | 'neox-2022';

export interface SweepSpace {
  cfg: NeoXConfig;
  gpus: number;
  gpusPerNode: number;
  /** Sequences per optimizer step. */
  globalBatch: number;
  /** Fields every plan shares (sequence length, precision, bucket sizes, overlap, partition method, dropout). */
  base: Partial<Plan>;
  choices: SweepChoices;
}

export interface SweepChoices {
  /** Restrict a dimension to these values (absent: all). */
  tp?: number[];
  pp?: number[];
  microBatch?: number[];
  zeroStage?: ZeroStage[];
  recompute?: Recompute[];
  schedule?: PipelineSchedule[];
  /** Sequence parallelism off and/or on (absent: off only, so the default sweep is gpt-neox's). */
  sequenceParallel?: boolean[];
  rankOrders: (readonly [Axis, Axis, Axis])[];
  /** Let a TP group span nodes (default: TP divides the GPUs of a node). */
  tpAcrossNodes: boolean;
  /** Allow PP that does not divide the layers (DeepSpeed's uneven partition). */
  unevenPipelines: boolean;
  engine: Engine;
}

/** The two layouts of the GPT-NeoX-20B run: gpt-neox's pipe,data,model and the data-outermost view. */
export const NEOX_RANK_ORDERS: (readonly [Axis, Axis, Axis])[] = [['pipe', 'data', 'model'], ['data', 'pipe', 'model']];
export const ALL_RANK_ORDERS: (readonly [Axis, Axis, Axis])[] = [
  ['pipe', 'data', 'model'], ['data', 'pipe', 'model'], ['pipe', 'model', 'data'], ['model', 'pipe', 'data'], ['data', 'model', 'pipe'], ['model', 'data', 'pipe'],
];
export const ZERO_STAGES: ZeroStage[] = [0, 1, 2, 3];
export const RECOMPUTE_MODES: Recompute[] = ['none', 'selective', 'full'];
export const SCHEDULES: PipelineSchedule[] = ['1f1b', 'gpipe', 'interleaved'];

/** How one level of the enumeration went: candidates tried, kept, and dropped by each rule. */
export interface EnumerationLevel {
  what: string;
  tried: number;
  kept: number;
  dropped: { rule: string; count: number; examples: string[] }[];
}

export interface Enumeration {
  plans: Plan[];
  levels: EnumerationLevel[];
  /** Plans gpt-neox 2022 (DeeperSpeed 0.3.15) could not run, kept with engine 'any'. */
  notNeox2022: number;
  /** Data-parallel degrees of the (TP, PP) pairs the model allows, before the global batch is checked. */
  dataParallelDegrees: number[];
}

class Level {
  readonly drops = new Map<string, { count: number; examples: string[] }>();
  tried = 0;
  kept = 0;
  constructor(readonly what: string) {}
  keep(): void {
    this.tried++;
    this.kept++;
  }
  drop(rule: string, example: string): void {
    this.tried++;
    const d = this.drops.get(rule) ?? { count: 0, examples: [] };
    d.count++;
    if (d.examples.length < 3) d.examples.push(example);
    this.drops.set(rule, d);
  }
  done(): EnumerationLevel {
    return { what: this.what, tried: this.tried, kept: this.kept, dropped: [...this.drops].map(([rule, d]) => ({ rule, ...d })) };
  }
}

export function enumeratePlans(space: SweepSpace): Enumeration {
  const { cfg, gpus, globalBatch, choices: ch } = space;
  const L = cfg.numLayers;
  const tpLevel = new Level('TP degrees (divisors of the GPU count)');
  const ppLevel = new Level('(TP, PP) pairs (PP a divisor of GPUs / TP)');
  const planLevel = new Level('plans (micro-batch, ZeRO stage, recompute, schedule, rank order for each pair)');
  const plans: Plan[] = [];
  let notNeox2022 = 0;
  const degrees = new Set<number>();
  const only = <T>(values: T[], allowed: T[] | undefined) => (allowed ? values.filter((v) => allowed.includes(v)) : values);

  for (const tp of only(divisors(gpus), ch.tp)) {
    if (!ch.tpAcrossNodes && space.gpusPerNode % tp !== 0) {
      tpLevel.drop(`TP must divide the ${space.gpusPerNode} GPUs of a node (TP groups stay on NVLink; --tp-across-nodes allows more)`, `TP ${tp}`);
      continue;
    }
    try {
      checkTensorParallel(cfg, tp);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      tpLevel.drop('TP must divide the attention heads, the MLP width and the vocabulary rows', `TP ${tp}`);
      continue;
    }
    tpLevel.keep();
    for (const pp of only(divisors(gpus / tp), ch.pp)) {
      const pair = `TP ${tp} PP ${pp}`;
      if (pp > L) {
        ppLevel.drop(`PP must be at most the ${L} layers`, pair);
        continue;
      }
      if (L % pp !== 0 && !ch.unevenPipelines) {
        ppLevel.drop(`PP must divide the ${L} layers (equal stages; --uneven-pp allows DeepSpeed's uneven partition)`, pair);
        continue;
      }
      const dp = gpus / (tp * pp);
      degrees.add(dp);
      if (globalBatch % dp !== 0) {
        ppLevel.drop(`the global batch (${globalBatch}) must be a multiple of DP`, `${pair} (DP ${dp})`);
        continue;
      }
      ppLevel.keep();
      for (const microBatch of only(divisors(globalBatch / dp), ch.microBatch)) {
        const gas = globalBatch / (dp * microBatch);
        for (const { schedule, virtualStages } of scheduleCandidates(pp, L, ch.schedule)) {
          for (const recompute of only(RECOMPUTE_MODES, ch.recompute)) {
            for (const zeroStage of only(ZERO_STAGES, ch.zeroStage)) {
              for (const sequenceParallel of ch.sequenceParallel ?? [false]) {
              const seen = new Set<string>();
              for (const rankOrder of ch.rankOrders) {
                const fields: Partial<Plan> = {
                  ...space.base, tp, pp, dp, microBatch, gradAccumSteps: gas, zeroStage, recompute, schedule, virtualStages, rankOrder,
                  p2p: schedule === 'interleaved' ? 'async' : space.base.p2p ?? 'sync-broadcast',
                  unevenPipeline: ch.unevenPipelines,
                  ...(sequenceParallel ? { sequenceParallel } : {}),
                };
                const plan = makePlan(cfg, fields);
                const name = planKey(plan);
                const rule = planRule(plan, L, seen);
                if (rule) {
                  planLevel.drop(rule, name);
                  continue;
                }
                const reason = neox2022Limit(plan);
                if (reason && ch.engine === 'neox-2022') {
                  planLevel.drop(`gpt-neox 2022 could not run it: ${reason} (--engine any keeps it)`, name);
                  continue;
                }
                try {
                  validatePlan(cfg, plan, { gpus, globalBatch });
                } catch (e) {
                  if (!(e instanceof InputError)) throw e;
                  planLevel.drop(`rejected by the workload's plan checks: ${e.message.replace(/^plan: /, '')}`, name);
                  continue;
                }
                if (reason) notNeox2022++;
                planLevel.keep();
                plans.push(plan);
              }
              }
            }
          }
        }
      }
    }
  }
  return { plans, levels: [tpLevel.done(), ppLevel.done(), planLevel.done()], notNeox2022, dataParallelDegrees: [...degrees].sort((a, b) => a - b) };
}

/**
 * The schedules to try on `pp` stages: 1F1B, GPipe, and interleaved with every v ≥ 2 chunks per stage that
 * splits the layers evenly (Megatron: layers divisible by pp·v); v = 2 stands for interleaving where none does.
 */
function scheduleCandidates(pp: number, layers: number, allowed?: PipelineSchedule[]): { schedule: PipelineSchedule; virtualStages: number }[] {
  const out: { schedule: PipelineSchedule; virtualStages: number }[] = [];
  for (const schedule of allowed ?? SCHEDULES) {
    if (schedule !== 'interleaved') out.push({ schedule, virtualStages: 1 });
    else {
      const vs = layers % pp === 0 ? divisors(layers / pp).filter((v) => v >= 2) : [];
      for (const virtualStages of vs.length ? vs : [2]) out.push({ schedule, virtualStages });
    }
  }
  return out;
}

/** The structural rule a candidate breaks, if any (checked before the workload's own validation). */
function planRule(plan: Plan, layers: number, seenPlacements: Set<string>): string | undefined {
  if (plan.sequenceParallel === true && plan.tp === 1) return 'sequence parallelism needs TP > 1';
  if (plan.pp === 1 && plan.schedule === 'gpipe') return 'GPipe on one stage is 1F1B on one stage (same plan)';
  if (plan.pp === 1 && plan.schedule === 'interleaved') return 'the interleaved schedule needs PP ≥ 2';
  if (plan.schedule === 'interleaved') {
    if (layers % (plan.pp * plan.virtualStages) !== 0) return `interleaving needs the ${layers} layers divisible by PP × chunks per stage`;
    if (plan.gradAccumSteps % plan.pp !== 0) return 'interleaving needs GAS to be a multiple of PP (Megatron)';
  }
  // Rank orders that differ only in where a size-1 axis sits place every rank on the same GPU.
  const size = { pipe: plan.pp, data: plan.dp, model: plan.tp };
  const placement = plan.rankOrder.filter((a) => size[a] > 1).join(',');
  if (seenPlacements.has(placement)) return 'same rank placement as another rank order (an axis of size 1)';
  seenPlacements.add(placement);
  return undefined;
}

/** What DeeperSpeed 0.3.15 / gpt-neox 2022 could not run (workload validatePlan warns about the same). */
export function neox2022Limit(plan: Plan): string | undefined {
  if (plan.zeroStage >= 2 && plan.pp > 1) return `ZeRO ${plan.zeroStage} with pipeline parallelism (its PipelineEngine supports ZeRO < 2 only)`;
  if (plan.schedule !== '1f1b' && plan.pp > 1) return `the ${plan.schedule} schedule (it ran DeepSpeed's 1F1B TrainSchedule)`;
  if (plan.recompute === 'selective') return 'selective recompute (it checkpointed whole layers)';
  if (plan.sequenceParallel === true) return 'sequence parallelism (it all-reduced whole activations over TP)';
  return undefined;
}

/** A short canonical name of a plan; also its deterministic tie-break. */
export function planKey(p: Plan): string {
  const sched = p.schedule === 'interleaved' ? `interleaved×${p.virtualStages}` : p.schedule;
  return `tp${p.tp} pp${p.pp} dp${p.dp} mbs${p.microBatch} gas${p.gradAccumSteps} zero${p.zeroStage} ${p.recompute} ${sched} ${p.rankOrder.join(',')}${p.sequenceParallel ? ' sp' : ''}`;
}

export function divisors(n: number): number[] {
  // Pairs (d, n/d) up to √n: a global batch of 1e11 sequences is bad input to report, not a minutes-long loop.
  const low: number[] = [];
  const high: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    low.push(d);
    if (d * d !== n) high.push(n / d);
  }
  return low.concat(high.reverse());
}
