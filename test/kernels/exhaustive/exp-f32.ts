/**
 * Exhaustive check (minutes, not part of `npm test`): the vectorized float32 exp of the kernels equals
 * Math.fround(Math.exp(x)) for every float32 x in [-104, 88.5] (the vector path; outside it the kernels use
 * the scalar port, which test/kernels/fp16-and-math.test.ts checks). Run: npx tsx test/kernels/exhaustive/exp-f32.ts
 */
import { KernelRuntime } from '../../../src/kernels/runtime.js';

const rt = new KernelRuntime({ threads: 1 });
const CHUNK = 1 << 22;
const x = rt.heap.f32(CHUNK), y = rt.heap.f32(CHUNK);
const bits = new Uint32Array(x.buffer, x.byteOffset, CHUNK);
let checked = 0, mismatches = 0;
// Non-negative floats up to 88.5, then negative ones down to −104, by bit pattern.
for (const [from, to] of [[0x00000000, 0x42b10000], [0x80000000, 0xc2d00000]] as const) {
  for (let start = from; start <= to; start += CHUNK) {
    const n = Math.min(CHUNK, to - start + 1);
    for (let i = 0; i < CHUNK; i++) bits[i] = i < n ? start + i : from;
    rt.run('expBufferProbe', [x.byteOffset, y.byteOffset, CHUNK], false);
    for (let i = 0; i < n; i++) {
      if (!Object.is(y[i], Math.fround(Math.exp(x[i]!)))) {
        if (mismatches++ < 10) console.log(`mismatch at ${x[i]}: ${y[i]} vs ${Math.fround(Math.exp(x[i]!))}`);
      }
    }
    checked += n;
  }
}
console.log(`${checked} float32 inputs checked, ${mismatches} mismatches`);
void rt.close();
process.exitCode = mismatches === 0 ? 0 : 1;
