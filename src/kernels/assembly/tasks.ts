// Work sharing. Every thread (the main thread and each worker) has its own instance of this module over one
// shared memory. A kernel call runs on all threads at once; each thread claims task indices from one shared
// counter until they run out. A task always computes the same outputs in the same order, whichever thread
// claims it, so results do not depend on the number of threads or on timing.

/** This instance's task counter (shared by all threads) and its private scratch area. */
let counter: usize = 0;
let scratchBase: usize = 0;

export function setupThread(counterPtr: usize, scratchPtr: usize): void {
  counter = counterPtr;
  scratchBase = scratchPtr;
}

/** The next unclaimed task index (0, 1, 2, ... across all threads). */
// @ts-ignore: decorator
@inline export function nextTask(): i32 {
  return atomic.add<i32>(counter, 1);
}

/** This thread's scratch memory (SCRATCH_BYTES long). */
// @ts-ignore: decorator
@inline export function scratch(): usize {
  return scratchBase;
}

/** Bytes of private scratch each thread starts with: every kernel's need, except attention on long or wide heads. */
export const SCRATCH_BYTES: i32 = 8 << 20;

/**
 * Moves every thread to a larger scratch: run on all threads at once, each claims one slot of the table of
 * pointers (one per thread), so each gets its own.
 */
export function setScratch(table: usize): void {
  scratchBase = load<usize>(table + ((<usize>nextTask()) << 2));
}

export function scratchBytes(): i32 {
  return SCRATCH_BYTES;
}
