import { Worker } from 'node:worker_threads';
import { InputError } from '../common/errors.js';
import { loadNcclProfile } from '../hardware/nccl-profile.js';
import { mapRun, planLabel, type MappedRun } from './map-run.js';
import { predictStep, type Prediction } from './predict.js';
import { loadPublishedRuns } from './runs-file.js';
import { errorPct, errorStats, type ErrorStats } from './stats.js';

/** One published run against its simulated step. */
export interface RunResult {
  id: string;
  gpus: number;
  framework?: string;
  cluster?: string;
  plan?: string;
  /** Set when the run cannot be represented; nothing was simulated. */
  skipped?: string;
  assumptions: string[];
  published: { seconds: number; basis: string; tflopsPerGpu: number | null; convention?: string };
  predicted?: Prediction;
  /** (predicted − published) / published seconds per iteration, percent. */
  errorPct?: number;
}

export interface ValidationReport {
  schema: 'neox-sim/validate@1';
  runsFile: string;
  results: RunResult[];
  stats?: ErrorStats;
  /** Statistics per framework (runs of one framework share its systematic errors). */
  byFramework: Record<string, ErrorStats>;
}

export interface ValidateOptions {
  /** Run ids to keep (all when absent); an unknown id is an input error. */
  only?: string[];
  /** Simulations at once, each in its own worker thread (1 = in this thread). */
  jobs?: number;
  /** NCCL profile name or file. */
  nccl?: string;
  /** Called as runs start and finish (progress for stderr). */
  progress?: (event: { id: string; done: boolean; index: number; total: number; gpus: number; wallSeconds?: number; tasks?: number }) => void;
}

/** Maps every selected run, simulates the representable ones (largest first across workers) and compares. */
export async function validatePublishedRuns(file: string, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const runs = loadPublishedRuns(file);
  const only = opts.only;
  if (only) {
    const unknown = only.filter((id) => !runs.some((r) => r.id === id));
    if (unknown.length) throw InputError.field(file, '--only', `run ids from the file (${runs.map((r) => r.id).join(', ')})`, unknown.join(','));
  }
  const selected = only ? runs.filter((r) => only.includes(r.id)) : runs;
  const mappings = selected.map((r) => mapRun(r, file));
  const nccl = opts.nccl ?? undefined;
  loadNcclProfile(nccl); // fail on a bad profile before any simulation
  const todo = mappings.flatMap((m) => (m.ok ? [m.mapped] : []));
  const predictions = await simulateAll(file, todo, opts);

  const results: RunResult[] = mappings.map((m) => {
    if (!m.ok) {
      return {
        id: m.run.id, gpus: m.run.hardware.numGpus, skipped: m.reason, assumptions: [],
        published: { seconds: Number.NaN, basis: '', tflopsPerGpu: m.run.reported.tflopsPerGpu },
      };
    }
    const x = m.mapped;
    const predicted = predictions.get(x.run.id)!;
    return {
      id: x.run.id, gpus: x.run.hardware.numGpus, framework: x.framework.id, cluster: x.cluster.label, plan: planLabel(x.plan),
      assumptions: x.assumptions, published: { ...x.published, convention: x.framework.conventionName }, predicted,
      errorPct: errorPct(predicted.seconds, x.published.seconds),
    };
  });
  const rows = results.flatMap((r) => (r.errorPct === undefined ? [] : [{ id: r.id, errorPct: r.errorPct, framework: r.framework! }]));
  const byFramework: Record<string, ErrorStats> = {};
  for (const fw of [...new Set(rows.map((r) => r.framework))]) byFramework[fw] = errorStats(rows.filter((r) => r.framework === fw))!;
  return { schema: 'neox-sim/validate@1', runsFile: file, results, stats: errorStats(rows), byFramework };
}

/** Predictions by run id; several runs at once in worker threads when jobs > 1. */
async function simulateAll(file: string, todo: MappedRun[], opts: ValidateOptions): Promise<Map<string, Prediction>> {
  const out = new Map<string, Prediction>();
  // Largest first, so that the long runs start early and the workers finish together.
  const order = [...todo].sort((a, b) => b.run.hardware.numGpus * b.plan.gradAccumSteps - a.run.hardware.numGpus * a.plan.gradAccumSteps || a.run.id.localeCompare(b.run.id));
  const total = order.length;
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, total));
  let next = 0;
  const report = (m: MappedRun, done: boolean, wallSeconds?: number, tasks?: number) =>
    opts.progress?.({ id: m.run.id, done, index: order.indexOf(m) + 1, total, gpus: m.run.hardware.numGpus, wallSeconds, tasks });
  if (jobs === 1) {
    const nccl = loadNcclProfile(opts.nccl);
    for (const m of order) {
      report(m, false);
      const t0 = performance.now();
      const p = predictStep(m, nccl);
      out.set(m.run.id, p);
      report(m, true, (performance.now() - t0) / 1e3, p.tasks);
    }
    return out;
  }
  const worker = async (): Promise<void> => {
    while (next < order.length) {
      const m = order[next++]!;
      report(m, false);
      const t0 = performance.now();
      const p = await inWorker(file, m.run.id, opts.nccl);
      out.set(m.run.id, p);
      report(m, true, (performance.now() - t0) / 1e3, p.tasks);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return out;
}

/** Simulates one run of the file in a fresh worker thread (it re-reads and re-maps the run itself). */
function inWorker(file: string, id: string, nccl: string | undefined): Promise<Prediction> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { file, id, nccl } });
    w.once('message', (msg: { prediction?: Prediction; error?: string; input?: boolean }) => {
      if (msg.prediction) resolve(msg.prediction);
      else reject(msg.input ? new InputError(msg.error!) : new Error(msg.error));
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`validate: worker for ${id} exited with code ${code}`));
    });
  });
}
