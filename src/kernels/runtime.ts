import { availableParallelism } from 'node:os';
import { WasmHeap } from './heap.js';
import { ThreadPool } from './thread-pool.js';
import { loadKernelModule, type KernelVariant } from './wasm-module.js';

export interface RuntimeOptions {
  /** Threads that compute, the calling thread included (default: all cores). */
  threads?: number;
  /** Force the relaxed-SIMD FMA build (true) or the portable build (false); default: NEOX_SIM_WASM_FMA, else auto. */
  fma?: boolean;
}

type KernelExports = Record<string, (...args: number[]) => number>;

/**
 * One loaded kernel module: the shared memory and its allocator, this thread's instance, and the worker
 * threads. `run` calls a kernel export on all threads (or only this one for small jobs).
 */
export class KernelRuntime {
  readonly variant: KernelVariant;
  /** Whether multiply-adds are fused (single rounding) in this process. */
  readonly fused: boolean;
  readonly threads: number;
  readonly heap: WasmHeap;
  private readonly exports: KernelExports;
  private readonly names: string[];
  private readonly counter: Int32Array;
  private readonly pool?: ThreadPool;
  /** Each thread's scratch block (this thread first) and their size. */
  private scratch: number[];
  private scratchSize: number;
  private closed = false;

  constructor(opts: RuntimeOptions = {}) {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new RangeError(`threads: expected an integer from 1 to 64, got ${threads}`);
    }
    const loaded = loadKernelModule({ fma: opts.fma });
    this.variant = loaded.variant;
    this.fused = loaded.fused;
    this.threads = threads;
    this.names = WebAssembly.Module.exports(loaded.module).filter((e) => e.kind === 'function').map((e) => e.name);

    // The module has no static data of its own beyond __heap_base; the heap starts there.
    const probeMemory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const probe = new WebAssembly.Instance(loaded.module, { env: { memory: probeMemory } }).exports as KernelExports;
    this.heap = new WasmHeap(probe.heapBase!());
    const scratchBytes = probe.scratchBytes!();

    const counterPtr = this.heap.alloc(64);
    this.counter = this.heap.i32At(counterPtr, 1);
    const imports = { env: { memory: this.heap.memory, abort: () => { throw new Error('wasm abort'); } } };
    this.exports = new WebAssembly.Instance(loaded.module, imports).exports as KernelExports;
    this.scratchSize = scratchBytes;
    this.scratch = Array.from({ length: threads }, () => this.heap.alloc(scratchBytes));
    this.exports.setupThread!(counterPtr, this.scratch[0]!);
    if (threads > 1) {
      this.pool = new ThreadPool({ module: loaded.module, memory: this.heap.memory, names: this.names, counterPtr, scratchPtrs: this.scratch.slice(1) });
    }
  }

  /**
   * Gives every thread at least `bytes` of scratch (kernels whose need grows with the shape ask first).
   * The blocks only grow; which thread gets which block does not matter, as no result depends on it.
   */
  ensureScratch(bytes: number): void {
    if (bytes <= this.scratchSize) return;
    const size = Math.ceil(bytes / (1 << 20)) * (1 << 20);
    const blocks = Array.from({ length: this.threads }, () => this.heap.alloc(size));
    const table = this.heap.alloc(4 * this.threads);
    this.heap.i32At(table, this.threads).set(blocks);
    try {
      this.run('setScratch', [table]);
    } finally {
      this.heap.release(table);
    }
    for (const ptr of this.scratch) this.heap.release(ptr);
    this.scratch = blocks;
    this.scratchSize = size;
  }

  /** "relaxed-fma (fused)", "relaxed-fma (unfused)" or "simd128 (mul+add)", with the thread count. */
  describe(): string {
    const fma = this.variant === 'simd128' ? 'mul+add' : this.fused ? 'fused' : 'unfused';
    return `wasm ${this.variant} (${fma}), ${this.threads} thread${this.threads > 1 ? 's' : ''}`;
  }

  /**
   * Calls kernel export `name`: on every thread when `parallel` (the kernel shares out its tasks), else on
   * this thread alone. Returns the sum of the threads' return values.
   */
  run(name: string, args: number[], parallel = true): number {
    if (this.closed) throw new Error('kernel runtime is closed');
    const fn = this.exports[name];
    if (!fn) throw new Error(`no kernel export "${name}"`);
    Atomics.store(this.counter, 0, 0);
    if (!parallel || !this.pool) return Number(fn(...args) ?? 0);
    return this.pool.run(this.names.indexOf(name), fn, args);
  }

  /** Stops the worker threads (resolves once they have exited). The runtime refuses work afterwards. */
  close(): Promise<void> {
    this.closed = true;
    return this.pool?.close() ?? Promise.resolve();
  }
}
