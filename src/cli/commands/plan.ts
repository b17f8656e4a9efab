/** `neox-sim plan`: search every parallel plan, rank the ones that fit, export the best, write a report. */
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';
import { loadCluster } from '../../hardware/cluster.js';
import { DEFAULT_NCCL } from '../../hardware/nccl-profile.js';
import type { AttentionKernel } from '../../model/config.js';
import type { Recompute } from '../../model/ops.js';
import { PRESETS } from '../../model/presets.js';
import { ALL_RANK_ORDERS, NEOX_RANK_ORDERS, type Engine } from '../../plan/enumerate.js';
import { exportPlan } from '../../plan/export.js';
import { formatPlannerText } from '../../plan/format-text.js';
import { modelInputs } from '../../plan/inputs.js';
import { runPlanner } from '../../plan/planner.js';
import { defaultWorkers } from '../../plan/pool.js';
import { progressReporter } from '../../plan/progress.js';
import { parseHeadroom } from '../../sim/memory/budget.js';
import type { Axis, PipelineSchedule, ZeroStage } from '../../workload/plan.js';

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
  --attention materialized|flash   attention kernels for every plan, the run's own included (default: the
                           model's; flash = FlashAttention-2, which gpt-neox 2022 did not have)
  --steps N                optimizer steps of the run (default 150,000, or the config's train-iters)
  --price-per-gpu-hour P   add a cost column (GPU-hours × P)

Cluster (default supermicro12) and what-ifs:
  --cluster C  --nodes N  --gpu a100-40gb|a100-80gb|h100|FILE  --nics-per-node K  --trunk-links T  --nccl P
  --memory-headroom H      allocator headroom off the GPU's usable memory: a fraction (0.05, 5%) or a size
                           (2GB); default 0 — no measured fragmentation figure, so none is assumed

Sweep (each list restricts a dimension; default: every value):
  --tp LIST --pp LIST --mbs LIST --zero LIST --recompute LIST --schedule LIST     e.g. --tp 2,4 --zero 1
  --sp LIST                sequence parallelism: off, on or off,on (default off; on needs TP > 1)
  --rank-orders neox|all|A,B,C[;A,B,C…]   neox (default): pipe,data,model and data,pipe,model
  --engine any|neox-2022   neox-2022 keeps only what gpt-neox 2022 could run (default any: marks them †)
  --tp-across-nodes        let TP groups span nodes     --uneven-pp          allow PP not dividing the layers
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
/** More threads than this only costs memory (each worker holds the model and cluster). */
const MAX_WORKERS = 256;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: withDefaultReport(argv),
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      model: { type: 'string' }, config: { type: 'string', multiple: true },
      'global-batch': { type: 'string' }, seq: { type: 'string' }, attention: { type: 'string' }, steps: { type: 'string' }, 'price-per-gpu-hour': { type: 'string' },
      cluster: { type: 'string', default: 'supermicro12' }, nodes: { type: 'string' }, gpu: { type: 'string' },
      'nics-per-node': { type: 'string' }, 'trunk-links': { type: 'string' }, nccl: { type: 'string', default: DEFAULT_NCCL },
      'memory-headroom': { type: 'string' },
      tp: { type: 'string' }, pp: { type: 'string' }, mbs: { type: 'string' }, zero: { type: 'string' }, recompute: { type: 'string' }, sp: { type: 'string' },
      schedule: { type: 'string' }, 'rank-orders': { type: 'string' }, engine: { type: 'string' },
      'tp-across-nodes': { type: 'boolean' }, 'uneven-pp': { type: 'boolean' },
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
  if (workers > MAX_WORKERS) throw InputError.field(SRC, '--workers', `a whole number of at most ${MAX_WORKERS}`, v.workers);
  const price = positive('--price-per-gpu-hour', v['price-per-gpu-hour']);
  const headroom = v['memory-headroom'] !== undefined ? parseHeadroom(v['memory-headroom'], SRC) : undefined;
  const engine = oneOf('--engine', v.engine, ['any', 'neox-2022']) as Engine | undefined;
  const choices = {
    tp: list('--tp', v.tp, (s) => whole('--tp', s)!),
    pp: list('--pp', v.pp, (s) => whole('--pp', s)!),
    microBatch: list('--mbs', v.mbs, (s) => whole('--mbs', s)!),
    zeroStage: list('--zero', v.zero, (s) => Number(oneOf('--zero', s, ['0', '1', '2', '3'])) as ZeroStage),
    recompute: list('--recompute', v.recompute, (s) => oneOf('--recompute', s, ['none', 'selective', 'full']) as Recompute),
    schedule: list('--schedule', v.schedule, (s) => oneOf('--schedule', s, ['1f1b', 'gpipe', 'interleaved']) as PipelineSchedule),
    sequenceParallel: list('--sp', v.sp, (s) => oneOf('--sp', s, ['off', 'on']) === 'on'),
    rankOrders: rankOrders(v['rank-orders']),
    tpAcrossNodes: v['tp-across-nodes'] === true,
    unevenPipelines: v['uneven-pp'] === true,
    engine: engine ?? 'any',
  };
  const seq = whole('--seq', v.seq);
  const steps = whole('--steps', v.steps, 0);
  const batchFlag = whole('--global-batch', v['global-batch']);
  const overrides = {
    nodes: whole('--nodes', v.nodes), gpu: v.gpu, nicsPerNode: whole('--nics-per-node', v['nics-per-node']), trunkLinks: whole('--trunk-links', v['trunk-links']),
  };
  const cluster = loadCluster(v.cluster!, overrides);

  const m = modelInputs({ model: v.model, config: v.config, globalBatch: batchFlag, seqLength: seq, steps, gpus: cluster.gpuCount, source: SRC });
  if (v.attention !== undefined) {
    const kernel = oneOf('--attention', v.attention, ['materialized', 'flash']) as AttentionKernel;
    if (kernel === 'flash' && choices.engine === 'neox-2022') {
      throw InputError.field(SRC, '--attention', 'materialized with --engine neox-2022 (gpt-neox 2022 had no FlashAttention)', v.attention);
    }
    m.cfg = { ...m.cfg, attentionKernel: kernel };
    if (kernel === 'flash') m.label += ' (flash attention)';
  }

  const progress = v['no-progress'] ? undefined : progressReporter(process.stderr);
  const result = await runPlanner({
    cfg: m.cfg, modelLabel: m.label, clusterName: v.cluster!, overrides, nccl: v.nccl!, globalBatch: m.globalBatch, base: m.base,
    reference: m.reference, settings: m.settings, choices, top, workers, pricePerGpuHour: price, headroom, detail: v.report !== undefined, onProgress: progress?.update,
  });
  progress?.done();
  if (m.referenceMissing && !result.reference) result.reference = { label: m.referenceMissing };

  const best = result.rows[0];
  if (v['export-config']) {
    if (!best) throw InputError.field(SRC, '--export-config', 'a plan that fits (none does)');
    writeFileAtomic(v['export-config'], exportPlan(m.run, best.plan, m.settings.steps, `GPT-NeoX config for ${m.cfg.name} on ${result.cluster.name}: the best plan found by neox-sim plan (${best.key}), ${best.stepSeconds.toFixed(2)} s per step simulated`));
  }
  if (v.report !== undefined) {
    const file = v.report === DEFAULT_REPORT ? `reports/${slug(result.cluster.name)}-${slug(m.label)}.html` : v.report;
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
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least) throw InputError.field(SRC, flag, `a whole number of at least ${least}`, text);
  return Number(text);
}

function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!/^\d*\.?\d+(e[+-]?\d+)?$/i.test(text) || !(x > 0) || !Number.isFinite(x)) throw InputError.field(SRC, flag, 'a positive number', text);
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
