/** `neox-sim plan`: search every parallel plan, rank the ones that fit, export the best, write a report. */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';
import { loadCluster } from '../../hardware/cluster.js';
import { DEFAULT_NCCL } from '../../hardware/nccl-profile.js';
import type { NeoXConfig } from '../../model/config.js';
import type { Recompute } from '../../model/ops.js';
import type { NeoxRun } from '../../model/neox-args.js';
import { importNeoxYaml } from '../../model/neox-yaml.js';
import { getPreset, PRESETS } from '../../model/presets.js';
import { ALL_RANK_ORDERS, NEOX_RANK_ORDERS, type Engine } from '../../plan/enumerate.js';
import { exportPlan, presetRun } from '../../plan/export.js';
import { formatPlannerText } from '../../plan/format-text.js';
import { runPlanner, type PlannerInput } from '../../plan/planner.js';
import { defaultWorkers } from '../../plan/pool.js';
import { progressReporter } from '../../plan/progress.js';
import { defaultRunSettings, NEOX_20B_PLAN } from '../../sim/run/run-settings.js';
import { makePlan, planFromNeoxRun, type Axis, type PipelineSchedule, type Plan, type ZeroStage } from '../../workload/plan.js';

const HELP = `Usage: neox-sim plan [--model neox-20b | --config 20B.yml …] [--cluster supermicro12] [--steps 150000] [--top 10]
                     [what-ifs] [sweep options] [--json] [--export-config out.yml] [--report [FILE]]

Enumerates every parallel plan of the model on the cluster for the global batch — TP, PP, DP, micro-batch,
gradient accumulation, ZeRO stage, recompute, pipeline schedule, rank order — drops those that do not fit in
GPU memory (saying why), bounds the step time of the rest and simulates every plan that could still be among
the best, then ranks them: step time, tokens/s, TFLOP/s per GPU, peak memory, hours and GPU-hours for the
whole run, cost, and what limits each. GPT-NeoX-20B's own plan is simulated and marked.

Model (default neox-20b; its plan, global batch 1536 and bucket settings come from configs/20B.yml):
  --model NAME             a preset (${Object.keys(PRESETS).join(', ')})
  --config FILE            gpt-neox YAML (repeatable, merged in order): model, batch, ZeRO buckets, run length
  --global-batch N         sequences per step (required for presets other than neox-20b without --config)
  --seq N                  tokens per sequence (what-if)
  --steps N                optimizer steps of the run (default 150,000, or the config's train-iters)
  --price-per-gpu-hour P   add a cost column (GPU-hours × P)

Cluster (default supermicro12) and what-ifs:
  --cluster C  --nodes N  --gpu a100-40gb|a100-80gb|h100|FILE  --nics-per-node K  --trunk-links T  --nccl P

Sweep (each list restricts a dimension; default: every value):
  --tp LIST --pp LIST --mbs LIST --zero LIST --recompute LIST --schedule LIST     e.g. --tp 2,4 --zero 1
  --rank-orders neox|all|A,B,C[;A,B,C…]   neox (default): pipe,data,model and data,pipe,model
  --engine any|neox-2022   neox-2022 keeps only what gpt-neox 2022 could run (default any: marks them †)
  --tp-across-nodes        let TP groups span nodes     --uneven-pipelines   allow PP not dividing the layers
  --top K                  plans in the table (default 10); the search is exact for the top K
  --workers N              worker threads (default: one per core; 0 = this thread)

Outputs (files written atomically):
  --json                   the whole result as JSON (schema neox-sim/plan@1)
  --export-config FILE     the best plan as a gpt-neox config (its key names); re-imports to the same plan
  --report [FILE]          self-contained HTML capacity report (default reports/<cluster>-<model>.html)
  --show-dropped           list every plan that does not fit, with the reason
  --no-progress            no progress on stderr
`;

const SRC = 'plan';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: withDefaultReport(argv),
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      model: { type: 'string' }, config: { type: 'string', multiple: true },
      'global-batch': { type: 'string' }, seq: { type: 'string' }, steps: { type: 'string' }, 'price-per-gpu-hour': { type: 'string' },
      cluster: { type: 'string', default: 'supermicro12' }, nodes: { type: 'string' }, gpu: { type: 'string' },
      'nics-per-node': { type: 'string' }, 'trunk-links': { type: 'string' }, nccl: { type: 'string', default: DEFAULT_NCCL },
      tp: { type: 'string' }, pp: { type: 'string' }, mbs: { type: 'string' }, zero: { type: 'string' }, recompute: { type: 'string' },
      schedule: { type: 'string' }, 'rank-orders': { type: 'string' }, engine: { type: 'string' },
      'tp-across-nodes': { type: 'boolean' }, 'uneven-pipelines': { type: 'boolean' },
      top: { type: 'string' }, workers: { type: 'string' },
      json: { type: 'boolean' }, 'export-config': { type: 'string' }, report: { type: 'string' }, 'show-dropped': { type: 'boolean' },
      'no-progress': { type: 'boolean' },
    },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw InputError.field(SRC, 'arguments', 'options only (see --help)', positionals.join(' '));
  if (v.model && v.config) throw InputError.field(SRC, '--model', '--model or --config, not both', v.model);

  // Flags first, so a typo fails before any profile is read.
  const top = whole('--top', v.top) ?? 10;
  const workers = whole('--workers', v.workers, 0) ?? defaultWorkers();
  const price = positive('--price-per-gpu-hour', v['price-per-gpu-hour']);
  const engine = oneOf('--engine', v.engine, ['any', 'neox-2022']) as Engine | undefined;
  const choices = {
    tp: list('--tp', v.tp, (s) => whole('--tp', s)!),
    pp: list('--pp', v.pp, (s) => whole('--pp', s)!),
    microBatch: list('--mbs', v.mbs, (s) => whole('--mbs', s)!),
    zeroStage: list('--zero', v.zero, (s) => Number(oneOf('--zero', s, ['0', '1', '2', '3'])) as ZeroStage),
    recompute: list('--recompute', v.recompute, (s) => oneOf('--recompute', s, ['none', 'selective', 'full']) as Recompute),
    schedule: list('--schedule', v.schedule, (s) => oneOf('--schedule', s, ['1f1b', 'gpipe', 'interleaved']) as PipelineSchedule),
    rankOrders: rankOrders(v['rank-orders']),
    tpAcrossNodes: v['tp-across-nodes'] === true,
    unevenPipelines: v['uneven-pipelines'] === true,
    engine: engine ?? 'any',
  };
  const seq = whole('--seq', v.seq);
  const steps = whole('--steps', v.steps, 0);
  const batchFlag = whole('--global-batch', v['global-batch']);
  const overrides = {
    nodes: whole('--nodes', v.nodes), gpu: v.gpu, nicsPerNode: whole('--nics-per-node', v['nics-per-node']), trunkLinks: whole('--trunk-links', v['trunk-links']),
  };
  const cluster = loadCluster(v.cluster!, overrides);
  const gpus = cluster.gpuCount;

  // The model, the settings every plan shares, the global batch and the plan the run actually used.
  let cfg: NeoXConfig;
  let label: string;
  let base: Partial<Plan> = {};
  let baseRun: NeoxRun;
  let settings = defaultRunSettings();
  let globalBatch = batchFlag;
  let reference: PlannerInput['reference'];
  let referenceMissing: string | undefined;
  if (v.config) {
    const neox = importNeoxYaml(v.config);
    cfg = neox.model;
    label = v.config.map((f) => basename(f, extname(f))).join('+');
    baseRun = neox;
    const t = neox.training;
    base = {
      reduceBucketSize: t.reduceBucketSize, allgatherBucketSize: t.allgatherBucketSize, overlapComm: t.overlapComm,
      precision: t.precision === 'bf16' ? 'bf16' : 'fp16', partitionMethod: neox.parallel.pipePartitionMethod,
      hiddenDropout: t.hiddenDropout, attentionDropout: t.attentionDropout,
    };
    settings = { ...settings, ...(t.trainIters ? { steps: t.trainIters } : {}), evalInterval: t.evalInterval, evalIters: t.evalIters, ...(t.saveInterval !== undefined ? { saveInterval: t.saveInterval } : {}) };
    const src = v.config.join(' + ');
    const tp = neox.parallel.modelParallelSize;
    const pp = Math.max(1, neox.parallel.pipeParallelSize);
    const fileBatch = t.globalBatch ?? (t.trainMicroBatchSize !== undefined && gpus % (tp * pp) === 0 ? t.trainMicroBatchSize * t.gradientAccumulationSteps * (gpus / (tp * pp)) : undefined);
    globalBatch ??= fileBatch;
    if (globalBatch === undefined) throw InputError.field(src, 'train_batch_size', 'a global batch (or train_micro_batch_size_per_gpu with a plan that divides the GPUs), or --global-batch');
    try {
      const mbs = t.trainMicroBatchSize ?? 1;
      const dp = gpus / (tp * pp);
      const gas = globalBatch / (mbs * dp);
      const adjusted: NeoxRun = { ...neox, training: { ...t, globalBatch, gradientAccumulationSteps: Number.isInteger(gas) ? gas : t.gradientAccumulationSteps } };
      reference = { plan: planFromNeoxRun(adjusted, src, { gpus, overrides: seq ? { seqLength: seq } : {} }).plan, label: `the plan of ${src}` };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      referenceMissing = `the plan of ${src} cannot run here: ${e.message}`;
    }
  } else {
    const name = v.model ?? 'neox-20b';
    if (!PRESETS[name]) throw InputError.field(SRC, '--model', `one of ${Object.keys(PRESETS).join(', ')}`, name);
    cfg = getPreset(name);
    label = name;
    baseRun = presetRun(cfg);
    if (name === 'neox-20b') {
      // configs/20B.yml: micro-batch 4 × GAS 32 × DP 12 = 1536 sequences; buckets 1.26e9; overlap_comm.
      base = { reduceBucketSize: NEOX_20B_PLAN.reduceBucketSize, allgatherBucketSize: NEOX_20B_PLAN.allgatherBucketSize, overlapComm: NEOX_20B_PLAN.overlapComm };
      globalBatch ??= NEOX_20B_PLAN.microBatch * NEOX_20B_PLAN.gradAccumSteps * 12;
      const dp = gpus / (NEOX_20B_PLAN.tp * NEOX_20B_PLAN.pp);
      const gas = globalBatch / (NEOX_20B_PLAN.microBatch * dp);
      if (Number.isInteger(dp) && Number.isInteger(gas)) {
        reference = { plan: makePlan(cfg, { ...NEOX_20B_PLAN, dp, gradAccumSteps: gas, ...(seq ? { seqLength: seq } : {}) }), label: "GPT-NeoX-20B's plan (configs/20B.yml: TP 2, PP 4, micro-batch 4, ZeRO 1, full recompute, 1F1B, pipe,data,model)" };
      } else referenceMissing = `GPT-NeoX-20B's plan (TP 2, PP 4, micro-batch 4) does not divide ${gpus} GPUs and a global batch of ${globalBatch}`;
    }
    if (globalBatch === undefined) throw InputError.field(SRC, '--global-batch', `sequences per step for ${name} (no published global batch for this preset)`);
  }
  if (seq !== undefined) {
    if (seq > cfg.maxPositionEmbeddings) throw InputError.field(SRC, '--seq', `at most max-position-embeddings (${cfg.maxPositionEmbeddings})`, seq);
    base.seqLength = seq;
  }
  if (steps !== undefined) settings = { ...settings, steps };

  const progress = v['no-progress'] ? undefined : progressReporter(process.stderr);
  const result = await runPlanner({
    cfg, modelLabel: label, clusterName: v.cluster!, overrides, nccl: v.nccl!, globalBatch, base, reference, settings, choices, top, workers,
    pricePerGpuHour: price, detail: v.report !== undefined, onProgress: progress?.update,
  });
  progress?.done();
  if (referenceMissing && !result.reference) result.reference = { label: referenceMissing };

  const best = result.rows[0];
  if (v['export-config']) {
    if (!best) throw InputError.field(SRC, '--export-config', 'a plan that fits (none does)');
    writeFileAtomic(v['export-config'], exportPlan(baseRun, best.plan, settings.steps, `GPT-NeoX config for ${cfg.name} on ${result.cluster.name}: the best plan found by neox-sim plan (${best.key}), ${best.stepSeconds.toFixed(2)} s per step simulated`));
  }
  if (v.report !== undefined) {
    const file = v.report === DEFAULT_REPORT ? `reports/${slug(result.cluster.name)}-${slug(label)}.html` : v.report;
    // d3-node pulls in jsdom: loaded only when a report is asked for.
    const { capacityReport } = await import('../../report/html/capacity-report.js');
    writeFileAtomic(file, capacityReport(result));
  }
  process.stdout.write(v.json ? `${JSON.stringify(jsonView(result), null, 1)}\n` : formatPlannerText(result, { showDropped: v['show-dropped'] }));
  return 0;
}

/** The JSON output: the result without the report's timeline and without how it was computed (workers). */
function jsonView(r: Awaited<ReturnType<typeof runPlanner>>) {
  const { best, workers: _workers, ...rest } = r;
  return { ...rest, best: best ? { summary: best.summary } : null };
}

const DEFAULT_REPORT = '\u0000default';

/** `--report` may come without a file: then the report gets its default name. */
function withDefaultReport(argv: string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '--report' && (i + 1 >= out.length || out[i + 1]!.startsWith('--'))) out.splice(i + 1, 0, DEFAULT_REPORT);
  }
  return out;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'report';

function whole(flag: string, text: string | undefined, least = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < least) throw InputError.field(SRC, flag, `a whole number of at least ${least}`, text);
  return Number(text);
}

function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!/^\d*\.?\d+(e[+-]?\d+)?$/i.test(text) || !(x > 0)) throw InputError.field(SRC, flag, 'a positive number', text);
  return x;
}

function oneOf(flag: string, text: string | undefined, allowed: string[]): string | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text)) throw InputError.field(SRC, flag, `one of ${allowed.join(', ')}`, text);
  return text;
}

function list<T>(flag: string, text: string | undefined, parse: (s: string) => T): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw InputError.field(SRC, flag, 'a comma-separated list such as 1,2,4', text);
  return [...new Set(items.map(parse))];
}

function rankOrders(text: string | undefined): (readonly [Axis, Axis, Axis])[] {
  if (text === undefined || text === 'neox') return NEOX_RANK_ORDERS;
  if (text === 'all') return ALL_RANK_ORDERS;
  return text.split(';').map((o) => {
    const axes = o.split(',').map((s) => s.trim());
    if (axes.length !== 3 || !['pipe', 'data', 'model'].every((a) => axes.includes(a))) {
      throw InputError.field(SRC, '--rank-orders', 'neox, all, or permutations of pipe,data,model separated by ";"', text);
    }
    return axes as [Axis, Axis, Axis];
  });
}
