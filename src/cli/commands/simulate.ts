/** `neox-sim simulate`: one optimizer step of every GPU, its breakdown and memory, and the whole run. */
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';
import { loadCluster } from '../../hardware/cluster.js';
import { DEFAULT_NCCL, loadNcclProfile } from '../../hardware/nccl-profile.js';
import { parseQuantity } from '../../hardware/units.js';
import type { NeoxRun } from '../../model/neox-args.js';
import { importNeoxYaml } from '../../model/neox-yaml.js';
import { getPreset, PRESETS } from '../../model/presets.js';
import { timelineToArrow } from '../../report/arrow.js';
import { formatSummary } from '../../report/step-text.js';
import { timelineToTrace } from '../../report/trace.js';
import { parseHeadroom } from '../../sim/memory/budget.js';
import { trackRank } from '../../sim/memory/tracker.js';
import { defaultRunSettings, NEOX_20B_PLAN, type RunSettings } from '../../sim/run/run-settings.js';
import { simulate } from '../../sim/run/simulate.js';
import { makePlan, planFromNeoxRun, validatePlan, type Axis, type Plan } from '../../workload/plan.js';

const HELP = `Usage: neox-sim simulate [--model neox-20b | --config 20B.yml …] [plan options] [run options] [outputs]

Simulates one optimizer step of every GPU of the cluster — compute kernels timed by a roofline with tile
and wave quantization, NCCL collectives and pipeline transfers as flows sharing the cluster's links — and
prints the step time with its breakdown per pipeline stage (forward, recompute, backward, optimizer,
exposed TP / PP / DP communication vs hidden, bubble), TFLOP/s per GPU under each convention, peak memory
per GPU against its capacity, and the whole run (steps, evaluation, checkpoints, failures) next to the
GPT-NeoX-20B paper's 150,000 steps and 1,830 hours.

Model (default --model neox-20b, whose plan defaults to configs/20B.yml: TP 2, PP 4, micro-batch 4,
GAS 32, ZeRO 1, full recompute, 1.26e9-element buckets):
  --model NAME             a preset (${Object.keys(PRESETS).join(', ')})
  --config FILE            gpt-neox YAML (repeatable; merged in order); plan and run settings come from it

Plan (override the defaults):
  --tp N --pp N            tensor- and pipeline-parallel degrees; DP = GPUs / (TP × PP)
  --dp N                   check: must equal GPUs / (TP × PP)
  --mbs N                  sequences per micro-batch
  --gas N                  micro-batches per step (gradient accumulation)
  --global-batch N         sequences per step: sets --gas (or checks it)
  --zero 0|1|2|3           ZeRO stage
  --recompute none|selective|full
  --schedule 1f1b|gpipe|interleaved   --virtual-stages V (interleaved)
  --rank-order A,B,C       rank axes outermost first (default pipe,data,model, gpt-neox's)
  --p2p sync-broadcast|async          pipeline transfers (default: DeeperSpeed 0.3.15's synchronous broadcast)
  --uneven-pp              allow PP not dividing the layers (gpt-neox's uneven DeepSpeed partition)
  --sp                     Megatron sequence parallelism (needs TP > 1 and the sequence divisible by TP)
  --attention materialized|flash      the attention kernels: the 2022 run's (default for presets), or
                           FlashAttention-2 (fused, causal blocks skipped, no s² tensors kept)

Run (defaults: the 20B run's config; see docs for sources):
  --steps N  --eval-interval N  --eval-iters N  --save-interval N
  --ckpt-write-bw BW       checkpoint write (and reload) bandwidth per node, e.g. "1 GB/s" (assumption)
  --mtbf-hours H           mean time between failures of one GPU, hours (default from the Llama 3 fleet)
  --restart-minutes M      detect + relaunch time per failure (default 30: PyTorch's collective timeout)

Cluster (default supermicro12) and what-ifs:
  --cluster C  --nodes N  --gpu a100-40gb|a100-80gb|h100|FILE  --nics-per-node K  --trunk-links T
  --nccl P                 NCCL profile (default ${DEFAULT_NCCL})
  --free-comm              what-if: communication costs nothing
  --memory-headroom H      allocator headroom off the GPU's usable memory: a fraction (0.05, 5%) or a size
                           (2GB); default 0 — no measured fragmentation figure, so none is assumed

Outputs (written atomically):
  --trace FILE             Chrome trace JSON (Perfetto): a process per GPU, a thread per stream
  --trace-ops RANKS        also one slice per kernel on these ranks, e.g. 0,95
  --arrow FILE             Arrow IPC file: a row per task (rank, stream, kind, name, start, end, bytes, flops)
  --json                   print the summary as JSON (schema neox-sim/simulate-summary@1) instead of text
  --per-rank               include every rank's breakdown (text: a table; JSON: step.ranks)
`;

const FLAG: Partial<Record<keyof Plan, string>> = {
  tp: '--tp', pp: '--pp', dp: '--dp', microBatch: '--mbs', gradAccumSteps: '--gas', zeroStage: '--zero', recompute: '--recompute',
  schedule: '--schedule', virtualStages: '--virtual-stages', rankOrder: '--rank-order', p2p: '--p2p', unevenPipeline: '--uneven-pp',
  sequenceParallel: '--sp',
};

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      model: { type: 'string' }, config: { type: 'string', multiple: true },
      tp: { type: 'string' }, pp: { type: 'string' }, dp: { type: 'string' }, mbs: { type: 'string' }, gas: { type: 'string' },
      'global-batch': { type: 'string' }, zero: { type: 'string' }, recompute: { type: 'string' }, schedule: { type: 'string' },
      'virtual-stages': { type: 'string' }, 'rank-order': { type: 'string' }, p2p: { type: 'string' }, 'uneven-pp': { type: 'boolean' }, sp: { type: 'boolean' }, attention: { type: 'string' },
      steps: { type: 'string' }, 'eval-interval': { type: 'string' }, 'eval-iters': { type: 'string' }, 'save-interval': { type: 'string' },
      'ckpt-write-bw': { type: 'string' }, 'mtbf-hours': { type: 'string' }, 'restart-minutes': { type: 'string' },
      cluster: { type: 'string', default: 'supermicro12' }, nodes: { type: 'string' }, gpu: { type: 'string' },
      'nics-per-node': { type: 'string' }, 'trunk-links': { type: 'string' }, nccl: { type: 'string', default: DEFAULT_NCCL },
      'free-comm': { type: 'boolean' }, 'memory-headroom': { type: 'string' }, trace: { type: 'string' }, 'trace-ops': { type: 'string' }, arrow: { type: 'string' },
      json: { type: 'boolean' }, 'per-rank': { type: 'boolean' },
    },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw InputError.field('simulate', 'arguments', 'options only (see --help)', positionals.join(' '));
  if (v.model && v.config) throw InputError.field('simulate', '--model', '--model or --config, not both', v.model);

  // Flags first, so that a mistyped value fails before any profile is loaded.
  const overrides = planFlags(v);
  const runOverrides = runFlags(v);
  const headroom = v['memory-headroom'] !== undefined ? parseHeadroom(v['memory-headroom'], 'simulate') : undefined;
  if (v.model && !PRESETS[v.model]) throw InputError.field('simulate', '--model', `one of ${Object.keys(PRESETS).join(', ')}`, v.model);
  const cluster = loadCluster(v.cluster!, {
    nodes: whole('--nodes', v.nodes), gpu: v.gpu, nicsPerNode: whole('--nics-per-node', v['nics-per-node']), trunkLinks: whole('--trunk-links', v['trunk-links']),
  });
  const gpus = cluster.gpuCount;
  let cfg;
  let plan: Plan;
  let warnings: string[];
  let settings = defaultRunSettings();
  if (v.config) {
    const neox: NeoxRun = importNeoxYaml(v.config);
    cfg = neox.model;
    const src = v.config.join(' + ');
    const gas = gasFromGlobalBatch(v, overrides.microBatch ?? neox.training.trainMicroBatchSize ?? 1, gpus, overrides.tp ?? neox.parallel.modelParallelSize, overrides.pp ?? Math.max(1, neox.parallel.pipeParallelSize));
    ({ plan, check: { warnings } } = planFromNeoxRun(neox, src, { gpus, overrides: { ...overrides, ...(gas ? { gradAccumSteps: gas } : {}) } }));
    const t = neox.training;
    settings = { ...settings, ...(t.trainIters ? { steps: t.trainIters } : {}), evalInterval: t.evalInterval, evalIters: t.evalIters, ...(t.saveInterval !== undefined ? { saveInterval: t.saveInterval } : {}) };
  } else {
    const name = v.model ?? 'neox-20b';
    cfg = getPreset(name);
    const base: Partial<Plan> = name === 'neox-20b' ? { ...NEOX_20B_PLAN } : {};
    const tp = overrides.tp ?? base.tp ?? 1;
    const pp = overrides.pp ?? base.pp ?? 1;
    if (gpus % (tp * pp) !== 0) {
      throw InputError.field('simulate', '--tp × --pp', `a divisor of the cluster's ${gpus} GPUs (DP = GPUs / (TP × PP))`, `${tp} × ${pp} = ${tp * pp}`);
    }
    const gas = gasFromGlobalBatch(v, overrides.microBatch ?? base.microBatch ?? 1, gpus, tp, pp);
    plan = makePlan(cfg, { ...base, ...overrides, dp: gpus / (tp * pp), ...(gas ? { gradAccumSteps: gas } : {}) });
    ({ warnings } = validatePlan(cfg, plan, { source: 'simulate', fieldName: (f) => FLAG[f] ?? f, gpus }));
  }
  if (v.attention !== undefined) {
    if (v.attention !== 'materialized' && v.attention !== 'flash') throw InputError.field('simulate', '--attention', 'materialized or flash', v.attention);
    cfg = { ...cfg, attentionKernel: v.attention as 'materialized' | 'flash' };
    if (v.attention === 'flash') warnings = [...warnings, 'FlashAttention: gpt-neox 2022 ran the materialized attention (no flash kernel in that engine)'];
  }
  if (overrides.dp !== undefined && overrides.dp !== plan.dp) {
    throw InputError.field('simulate', '--dp', `tp × pp × dp = the cluster's ${gpus} GPUs (tp ${plan.tp} × pp ${plan.pp} × dp ${overrides.dp} = ${plan.tp * plan.pp * overrides.dp})`, overrides.dp);
  }
  settings = { ...settings, ...runOverrides };

  const nccl = loadNcclProfile(v.nccl!, 'simulate', '--nccl');
  const sim = simulate({ cfg, plan, cluster, nccl, settings, warnings, execute: { freeComm: v['free-comm'] }, perRank: v['per-rank'], headroom });
  if (v.trace !== undefined) {
    const opsForRanks = v['trace-ops'] ? rankList('--trace-ops', v['trace-ops'], gpus) : [];
    const memory = Array.from({ length: sim.graph.ranks }, (_, r) => trackRank(sim.step, r, true, sim.reserve.bytes[r]).series);
    writeFileAtomic(v.trace, timelineToTrace(sim.step, { memory, opsForRanks, nodeOfGpu: cluster.nodeOfGpu }));
  }
  if (v.arrow !== undefined) writeFileAtomic(v.arrow, timelineToArrow(sim.step));
  process.stdout.write(v.json ? `${JSON.stringify(sim.summary, null, 1)}\n` : formatSummary(sim.summary));
  return 0;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function planFlags(v: Values): Partial<Plan> {
  const o: Partial<Plan> = {};
  const n = (flag: string, least = 1) => whole(flag, v[flag.slice(2)] as string | undefined, least);
  const set = <K extends keyof Plan>(k: K, x: Plan[K] | undefined) => {
    if (x !== undefined) o[k] = x;
  };
  set('tp', n('--tp'));
  set('pp', n('--pp'));
  set('dp', n('--dp'));
  set('microBatch', n('--mbs'));
  set('gradAccumSteps', n('--gas'));
  set('zeroStage', oneOf('--zero', v.zero as string | undefined, ['0', '1', '2', '3']) as Plan['zeroStage'] | undefined);
  if (o.zeroStage !== undefined) o.zeroStage = Number(o.zeroStage) as Plan['zeroStage'];
  set('recompute', oneOf('--recompute', v.recompute as string | undefined, ['none', 'selective', 'full']) as Plan['recompute'] | undefined);
  set('schedule', oneOf('--schedule', v.schedule as string | undefined, ['1f1b', 'gpipe', 'interleaved']) as Plan['schedule'] | undefined);
  set('virtualStages', n('--virtual-stages'));
  set('p2p', oneOf('--p2p', v.p2p as string | undefined, ['sync-broadcast', 'async']) as Plan['p2p'] | undefined);
  if (v['uneven-pp']) o.unevenPipeline = true;
  if (v.sp) o.sequenceParallel = true;
  if (o.schedule === 'interleaved') {
    o.virtualStages ??= 2;
    o.p2p ??= 'async';
  }
  const order = v['rank-order'] as string | undefined;
  if (order !== undefined) {
    const axes = order.split(',').map((s) => s.trim());
    if (axes.length !== 3 || !['pipe', 'data', 'model'].every((a) => axes.includes(a))) {
      throw InputError.field('simulate', '--rank-order', 'a permutation of pipe,data,model (outermost first)', order);
    }
    o.rankOrder = axes as [Axis, Axis, Axis];
  }
  return o;
}

/** --global-batch B sets GAS = B / (micro-batch × DP), which must be a whole number. */
function gasFromGlobalBatch(v: Values, mbs: number, gpus: number, tp: number, pp: number): number | undefined {
  const B = whole('--global-batch', v['global-batch'] as string | undefined);
  if (B === undefined) return undefined;
  const dp = gpus / (tp * pp);
  const gas = B / (mbs * dp);
  if (!Number.isInteger(dp) || !Number.isInteger(gas)) {
    throw InputError.field('simulate', '--global-batch', `a multiple of micro-batch × DP (${mbs} × ${dp} = ${mbs * dp})`, B);
  }
  const given = whole('--gas', v.gas as string | undefined);
  if (given !== undefined && given !== gas) {
    throw InputError.field('simulate', '--gas', `micro-batch × gas × dp = --global-batch ${B} (${mbs} × ${given} × ${dp} = ${mbs * given * dp})`, given);
  }
  return gas;
}

/** Run settings given on the command line. */
function runFlags(v: Values): Partial<RunSettings> {
  const out: Partial<RunSettings> = {};
  const n = (flag: string) => whole(flag, v[flag.slice(2)] as string | undefined, 0);
  const set = <K extends keyof RunSettings>(k: K, x: RunSettings[K] | undefined) => {
    if (x !== undefined) out[k] = x;
  };
  set('steps', n('--steps'));
  set('evalInterval', n('--eval-interval'));
  set('evalIters', n('--eval-iters'));
  set('saveInterval', n('--save-interval'));
  const bw = v['ckpt-write-bw'] as string | undefined;
  if (bw !== undefined) {
    const x = /^\d+(\.\d+)?(e\d+)?$/.test(bw) ? Number(bw) : parseQuantity(bw, 'bandwidth');
    if (!(x !== null && x > 0 && Number.isFinite(x))) throw InputError.field('simulate', '--ckpt-write-bw', 'a positive bandwidth such as "1 GB/s" or bytes per second', bw);
    out.ckptWriteBandwidthPerNode = x;
  }
  const mtbf = v['mtbf-hours'] as string | undefined;
  if (mtbf !== undefined) {
    const x = mtbf === 'inf' ? Infinity : Number(mtbf);
    if (!(x > 0)) throw InputError.field('simulate', '--mtbf-hours', 'a positive number of hours (or inf)', mtbf);
    out.mtbfHoursPerGpu = x;
  }
  const restart = v['restart-minutes'] as string | undefined;
  if (restart !== undefined) {
    const x = Number(restart);
    if (!(x >= 0) || !Number.isFinite(x)) throw InputError.field('simulate', '--restart-minutes', 'a number of minutes ≥ 0', restart);
    out.restartSeconds = 60 * x;
  }
  return out;
}

function whole(flag: string, text: string | undefined, least = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least) throw InputError.field('simulate', flag, `a whole number of at least ${least}`, text);
  return Number(text);
}

function oneOf(flag: string, text: string | undefined, allowed: string[]): string | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text)) throw InputError.field('simulate', flag, `one of ${allowed.join(', ')}`, text);
  return text;
}

function rankList(flag: string, text: string, ranks: number): number[] {
  return text.split(',').map((s) => {
    const r = whole(flag, s.trim(), 0)!;
    if (r >= ranks) throw InputError.field('simulate', flag, `ranks 0..${ranks - 1}`, s);
    return r;
  });
}
