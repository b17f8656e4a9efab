/**
 * The source of a kernel worker thread, run with `new Worker(WORKER_SOURCE, { eval: true })` so the same
 * code works from src/ (tsx, vitest) and from dist/. It instantiates the kernel module over the shared
 * memory and then loops: wait for a new job generation, run the job's export with this thread's id, report.
 * Protocol (Int32 control words): [0] job generation, [1] stop flag, [2] error flag, [3 + w] the generation
 * worker w finished last. Arguments and per-thread results are Float64 words. Waits read the word once and
 * wait on that value, so a wake-up between the read and the wait is never lost.
 */
export const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const { module, memory, ctlBuffer, argsBuffer, resultsBuffer, errorBuffer, worker, counterPtr, scratchPtr, names, spin } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm abort'); } } }).exports;
ex.setupThread(counterPtr, scratchPtr);
const fns = names.map((n) => ex[n]);
const ctl = new Int32Array(ctlBuffer);
const args = new Float64Array(argsBuffer);
const results = new Float64Array(resultsBuffer);
const errorText = new Uint8Array(errorBuffer);
let gen = 0;
for (;;) {
  for (let i = 0; ; i++) {
    const cur = Atomics.load(ctl, 0);
    if (cur !== gen) { gen = cur; break; }
    if (i >= spin) Atomics.wait(ctl, 0, cur);
  }
  if (Atomics.load(ctl, 1) !== 0) break;
  try {
    const a = args;
    results[1 + worker] = fns[a[0]](a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
      a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25]) ?? 0;
  } catch (err) {
    if (Atomics.compareExchange(ctl, 2, 0, 1) === 0) {
      const msg = new TextEncoder().encode(String(err && err.message || err)).subarray(0, errorText.length);
      errorText.fill(0); errorText.set(msg);
    }
  }
  Atomics.store(ctl, 3 + worker, gen);
  Atomics.notify(ctl, 3 + worker);
}
`;
