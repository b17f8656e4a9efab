import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../common/errors.js';
import { type EvalContext, type EvalJob, type EvalResult, PlanEvaluator } from './evaluate.js';

/**
 * Runs evaluation jobs on worker threads and returns each batch's results in job order, whatever order
 * they finish in. A job may ask for the worker that evaluated a plan before (`EvalJob.worker`): that worker
 * still holds the plan's task graph. If that worker is busy and another is idle, the idle one takes the job
 * (the result does not depend on the worker).
 */
export interface EvalPool {
  readonly workers: number;
  run(jobs: EvalJob[]): Promise<EvalResult[]>;
  close(): Promise<void>;
}

/** Default worker count: every core. */
export const defaultWorkers = () => availableParallelism();

/** `workers` threads (0: evaluate on the calling thread, one job at a time). */
export function createPool(ctx: EvalContext, workers: number): EvalPool {
  return workers > 0 ? new ThreadPool(ctx, workers) : new InlinePool(ctx);
}

class InlinePool implements EvalPool {
  readonly workers = 0;
  private readonly evaluator: PlanEvaluator;
  constructor(ctx: EvalContext) {
    this.evaluator = new PlanEvaluator(ctx);
  }
  async run(jobs: EvalJob[]): Promise<EvalResult[]> {
    return jobs.map((j) => ({ ...this.evaluator.evaluate(j), worker: 0 }));
  }
  async close(): Promise<void> {}
}

interface Pending {
  id: number;
  job: EvalJob;
  resolve: (r: EvalResult) => void;
  reject: (e: Error) => void;
}

type Reply = { id: number; result?: EvalResult; error?: { name: string; message: string; stack?: string } };

class ThreadPool implements EvalPool {
  private readonly threads: Worker[];
  private readonly busy: (Pending | undefined)[];
  /** Jobs for any worker, and jobs bound to one worker. */
  private readonly queue: Pending[] = [];
  private readonly bound: Pending[][];
  private nextId = 0;

  constructor(ctx: EvalContext, readonly workers: number) {
    this.threads = Array.from({ length: workers }, (_, w) => {
      const t = workerThread(ctx);
      t.on('message', (m: Reply) => this.reply(w, m));
      t.on('error', (e) => this.fail(w, e));
      return t;
    });
    this.busy = this.threads.map(() => undefined);
    this.bound = this.threads.map(() => []);
  }

  run(jobs: EvalJob[]): Promise<EvalResult[]> {
    return Promise.all(jobs.map((job) => new Promise<EvalResult>((resolve, reject) => {
      const p = { id: this.nextId++, job, resolve, reject };
      const w = job.worker;
      if (w !== undefined && w >= 0 && w < this.workers) this.bound[w]!.push(p);
      else this.queue.push(p);
      this.dispatch();
    })));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  private dispatch(): void {
    this.threads.forEach((t, w) => {
      if (this.busy[w]) return;
      const p = this.bound[w]!.shift() ?? this.queue.shift() ?? this.steal(w);
      if (!p) return;
      this.busy[w] = p;
      t.postMessage({ id: p.id, job: p.job });
    });
  }

  /**
   * A job waiting for a busy worker that holds its task graph, taken by idle worker `w`: building the graph
   * again costs a fraction of a second, waiting for the other worker's simulation costs seconds.
   */
  private steal(w: number): Pending | undefined {
    for (let v = 0; v < this.workers; v++) {
      if (v !== w && this.busy[v] && this.bound[v]!.length > 0) return this.bound[v]!.shift();
    }
    return undefined;
  }

  private reply(w: number, m: Reply): void {
    const p = this.busy[w];
    if (!p || p.id !== m.id) return;
    this.busy[w] = undefined;
    if (m.error) p.reject(rebuild(m.error));
    else p.resolve({ ...m.result!, worker: w });
    this.dispatch();
  }

  private fail(w: number, e: Error): void {
    const p = this.busy[w];
    this.busy[w] = undefined;
    p?.reject(e);
  }
}

/**
 * A worker running worker.ts. Built, that is dist/plan/worker.js. From the TypeScript sources (tests,
 * benchmarks) Node 20 cannot start a .ts entry even with tsx loaded, so a one-line bootstrap registers tsx
 * in the new thread and imports the source.
 */
function workerThread(ctx: EvalContext): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: ctx });
  const source = new URL('./worker.ts', here).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`, { eval: true, workerData: ctx });
}

/** An error from a worker, as the type it was (bad input stays an InputError: one line, exit 2). */
function rebuild(e: { name: string; message: string; stack?: string }): Error {
  const err = e.name === 'InputError' ? new InputError(e.message) : new Error(e.message);
  if (e.name !== 'InputError' && e.stack) err.stack = e.stack;
  return err;
}
