import { Worker } from 'node:worker_threads';
import { WORKER_SOURCE } from './worker-source.js';

/** How many times a waiting thread re-checks its control word before sleeping in Atomics.wait. */
const SPIN = 2000;
/** Argument words per job (a kernel export takes at most this many parameters). */
export const MAX_ARGS = 24;
const ERROR_BYTES = 512;

type KernelFn = (...args: number[]) => number | void;

export interface PoolSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Names of the exports a job may call (a job names one by index). */
  names: string[];
  /** Address of the shared task counter, reset to 0 before each job. */
  counterPtr: number;
  /** Scratch address of each worker (the main thread has its own). */
  scratchPtrs: number[];
}

/**
 * Worker threads that run kernel jobs together with the calling thread. A job is one export called on
 * every thread with the same arguments; the kernel shares out its tasks through the counter. The caller
 * blocks until all threads are done, so a job is a barrier. Workers are unref'd: they never keep the
 * process alive, and `close()` stops them.
 */
export class ThreadPool {
  readonly workers: Worker[] = [];
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * 64));
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * (2 + MAX_ARGS)));
  private readonly results: Float64Array;
  private readonly errorText = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  private gen = 0;
  private closed = false;

  constructor(setup: PoolSetup) {
    const n = setup.scratchPtrs.length;
    this.results = new Float64Array(new SharedArrayBuffer(8 * (1 + n)));
    for (let w = 0; w < n; w++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: setup.module, memory: setup.memory, names: setup.names, counterPtr: setup.counterPtr,
          scratchPtr: setup.scratchPtrs[w], worker: w, spin: SPIN,
          ctlBuffer: this.ctl.buffer, argsBuffer: this.args.buffer, resultsBuffer: this.results.buffer,
          errorBuffer: this.errorText.buffer,
        },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Runs export `fnIndex` on every worker and, meanwhile, `mainFn` on this thread; returns the sum of all
   * threads' return values (kernels return counts, so the sum is exact and order-free).
   */
  run(fnIndex: number, mainFn: KernelFn, args: number[]): number {
    if (this.closed) throw new Error('kernel thread pool is closed');
    if (args.length > MAX_ARGS) throw new Error(`kernel job with ${args.length} arguments (max ${MAX_ARGS})`);
    this.args[0] = fnIndex;
    this.args[1] = args.length;
    this.args.set(args, 2);
    const gen = ++this.gen;
    Atomics.store(this.ctl, 0, gen);
    Atomics.notify(this.ctl, 0);
    let total = 0;
    let mainError: unknown;
    try {
      total = Number(mainFn(...args) ?? 0);
    } catch (err) {
      mainError = err;
    }
    for (let w = 0; w < this.workers.length; w++) {
      for (let i = 0; ; i++) {
        const cur = Atomics.load(this.ctl, 3 + w);
        if (cur === gen) break;
        if (i >= SPIN) Atomics.wait(this.ctl, 3 + w, cur);
      }
      total += this.results[1 + w]!;
    }
    // Collect (and clear) a worker's error before rethrowing anything, so the next job starts clean.
    let workerError: Error | undefined;
    if (Atomics.load(this.ctl, 2) !== 0) {
      const msg = new TextDecoder().decode(this.errorText.slice()).replace(/\0+$/, '');
      Atomics.store(this.ctl, 2, 0);
      workerError = new Error(`kernel worker failed: ${msg}`);
    }
    if (mainError) throw mainError;
    if (workerError) throw workerError;
    return total;
  }

  /** Stops the workers; resolves when they have exited. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      Atomics.store(this.ctl, 1, 1);
      Atomics.store(this.ctl, 0, ++this.gen);
      Atomics.notify(this.ctl, 0);
    }
    return Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined);
  }
}
