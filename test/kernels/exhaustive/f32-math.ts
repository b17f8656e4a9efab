/**
 * Exhaustive checks (minutes, not part of `npm test`): the vectorized float32 exp and tanh of the kernels
 * equal Math.fround(Math.exp(x)) and Math.fround(Math.tanh(x)) for every float32 x of their vector ranges
 * (exp: [−104, 88.5]; tanh: |x| < 10, beyond which the kernels return ±1 or x as fdlibm rounds to; outside
 * the exp range the kernels use the scalar port, which test/kernels/fp16-and-math.test.ts checks).
 * Run: npx tsx test/kernels/exhaustive/f32-math.ts [exp|tanh]
 */
import { KernelRuntime } from '../../../src/kernels/runtime.js';

const CHECKS = {
  exp: { probe: 'expBufferProbe', ref: Math.exp, ranges: [[0x00000000, 0x42b10000], [0x80000000, 0xc2d00000]] },
  tanh: { probe: 'tanhBufferProbe', ref: Math.tanh, ranges: [[0x00000000, 0x41200000], [0x80000000, 0xc1200000]] },
} as const;

const rt = new KernelRuntime({ threads: 1 });
const CHUNK = 1 << 22;
const x = rt.heap.f32(CHUNK), y = rt.heap.f32(CHUNK);
const bits = new Uint32Array(x.buffer, x.byteOffset, CHUNK);
let failed = false;
for (const name of (process.argv[2] ? [process.argv[2]] : Object.keys(CHECKS)) as (keyof typeof CHECKS)[]) {
  const { probe, ref, ranges } = CHECKS[name];
  let checked = 0, mismatches = 0;
  for (const [from, to] of ranges) {
    for (let start = from; start <= to; start += CHUNK) {
      const n = Math.min(CHUNK, to - start + 1);
      for (let i = 0; i < CHUNK; i++) bits[i] = i < n ? start + i : from;
      rt.run(probe, [x.byteOffset, y.byteOffset, CHUNK], false);
      for (let i = 0; i < n; i++) {
        const want = Math.fround(ref(x[i]!));
        if (!Object.is(y[i], want) && mismatches++ < 10) console.log(`${name} mismatch at ${x[i]}: ${y[i]} vs ${want}`);
      }
      checked += n;
    }
  }
  console.log(`${name}: ${checked} float32 inputs checked, ${mismatches} mismatches`);
  failed ||= mismatches > 0;
}
void rt.close();
process.exitCode = failed ? 1 : 0;
