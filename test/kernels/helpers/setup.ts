import { afterAll } from 'vitest';
import { KernelRuntime, type RuntimeOptions } from '../../../src/kernels/runtime.js';

/** A deterministic generator of uniform values in [-0.5, 0.5) (LCG; tests need variety, not quality). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Runtimes for a test file, closed (worker threads stopped) when the file's tests finish. */
export function useRuntimes(): (opts: RuntimeOptions) => KernelRuntime {
  const made = new Map<string, KernelRuntime>();
  afterAll(async () => {
    await Promise.all([...made.values()].map((rt) => rt.close()));
  });
  return (opts) => {
    const key = JSON.stringify(opts);
    let rt = made.get(key);
    if (!rt) made.set(key, (rt = new KernelRuntime(opts)));
    return rt;
  };
}

/** The build variants under test: the portable one always, the relaxed-FMA one where this Node has it. */
export const FMA_VARIANTS = [false, true] as const;

/** Bitwise equality of two float arrays (NaNs compared by value). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
