import { afterEach, describe, expect, it } from 'vitest';
import { WasmHeap } from '../../src/kernels/heap.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { FMA_ENV, loadKernelModule } from '../../src/kernels/wasm-module.js';
import { useRuntimes } from './helpers/setup.js';

/** The loader (variant choice), the allocator, and the thread pool's error handling and shutdown. */
const runtime = useRuntimes();

describe('variant selection', () => {
  const saved = process.env[FMA_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[FMA_ENV];
    else process.env[FMA_ENV] = saved;
  });

  it('uses relaxed-SIMD FMA when it validates, and says so', () => {
    delete process.env[FMA_ENV];
    const m = loadKernelModule();
    expect(m.variant).toBe('relaxed-fma');
    expect(runtime({ threads: 2 }).describe()).toMatch(/^wasm relaxed-fma \((fused|unfused)\), 2 threads$/);
  });

  it(`${FMA_ENV}=0 (or fma: false) forces the portable build`, () => {
    process.env[FMA_ENV] = '0';
    expect(loadKernelModule().variant).toBe('simd128');
    delete process.env[FMA_ENV];
    expect(loadKernelModule({ fma: false }).variant).toBe('simd128');
    expect(runtime({ threads: 1, fma: false }).describe()).toBe('wasm simd128 (mul+add), 1 thread');
  });

  it(`a bad ${FMA_ENV} is an input error naming the variable and the expected values`, () => {
    process.env[FMA_ENV] = 'yes';
    expect(() => loadKernelModule()).toThrow(`environment: ${FMA_ENV}: expected 0 (portable SIMD128) or 1 (relaxed-SIMD FMA), got "yes"`);
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => new KernelRuntime({ threads: 0 })).toThrow(/threads/);
    expect(() => new KernelRuntime({ threads: 1.5 })).toThrow(/threads/);
  });
});

describe('heap', () => {
  it('hands out zeroed, 64-byte aligned blocks and reuses released ones', () => {
    const heap = new WasmHeap(1000, 1 << 16);
    const a = heap.alloc(100);
    const b = heap.alloc(10);
    expect(a % 64).toBe(0);
    expect(b).toBe(a + 128);
    new Uint8Array(heap.buffer, a, 100).fill(7);
    heap.release(a);
    expect(heap.alloc(64)).toBe(a);
    expect(Array.from(new Uint8Array(heap.buffer, a, 64)).every((x) => x === 0)).toBe(true);
  });

  it('grows the memory on demand; views made before growth stay valid', () => {
    const heap = new WasmHeap(0, 1 << 16);
    const v = heap.f32(1000);
    v[999] = 42;
    const big = heap.f32(4 << 20); // 16 MiB: forces growth
    big[big.length - 1] = 1;
    expect(v[999]).toBe(42);
    expect(heap.owns(v) && heap.owns(big)).toBe(true);
    expect(heap.owns(new Float32Array(4))).toBe(false);
  });

  it('a subarray keeps its allocation owned (its owner is the allocated view)', () => {
    const heap = new WasmHeap(0);
    const v = heap.f32(100);
    const sub = v.subarray(10, 20).subarray(2);
    expect(sub.owner).toBe(v);
    expect(heap.owns(sub)).toBe(true);
    expect([sub.byteOffset - v.byteOffset, sub.length]).toEqual([48, 8]);
    expect(Array.from(v.subarray(-3).map((_, i) => i))).toEqual([0, 1, 2]);
    expect(heap.owns(v.map((x) => x))).toBe(false); // a copy lives outside the kernel memory
  });
});

describe('thread pool', () => {
  it('a trap on any thread surfaces as an error, and the pool keeps working', () => {
    const rt = runtime({ threads: 2 });
    const x = rt.heap.f32(64);
    // A pointer past the end of memory: every thread's copy traps.
    expect(() => rt.run('copy', [1 << 20, 0xfffffff0, x.byteOffset, 0])).toThrow();
    x.fill(3);
    const y = rt.heap.f32(64);
    rt.run('copy', [64, x.byteOffset, y.byteOffset, 0]);
    expect(y[63]).toBe(3);
  });

  it('close() stops the workers; the runtime refuses work afterwards', async () => {
    const rt = new KernelRuntime({ threads: 2 });
    const x = rt.heap.f32(1 << 16);
    rt.run('copy', [x.length, x.byteOffset, x.byteOffset, 0]);
    await rt.close();
    expect(() => rt.run('copy', [x.length, x.byteOffset, x.byteOffset, 0])).toThrow(/closed/);
  });
});
