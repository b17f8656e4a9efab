/**
 * Exhaustive checks (minutes, not part of `npm test`): the vectorized float32 exp, tanh and erf of the
 * kernels equal the reference trainer's Math.fround(Math.exp(x)), Math.fround(Math.tanh(x)) and
 * Math.fround(erf(x)) (src/backends/js/math.ts) for every float32 x of their vector ranges, in both builds
 * (the relaxed one fuses the multiply-adds of exp's fast path):
 * - exp: [−104, 88.5] (the fast path and, where its rounding test fails or the result is subnormal,
 *   fdlibm's own operations; outside, the scalar port, which test/kernels/fp16-and-math.test.ts checks);
 * - tanh: |x| ≤ 10, beyond which the kernels return ±1 or x as fdlibm rounds to;
 * - erf: |x| < 6, beyond which erf is ±1 in both.
 * Run: npx tsx test/kernels/exhaustive/f32-math.ts [exp|tanh|erf ...] [--build relaxed|portable]
 */
import { parseArgs } from 'node:util';
import { erf } from '../../../src/backends/js/math.js';
import { KernelRuntime } from '../../../src/kernels/runtime.js';

const CHECKS = {
  exp: { probe: 'expBufferProbe', ref: Math.exp, ranges: [[0x00000000, 0x42b10000], [0x80000000, 0xc2d00000]] },
  tanh: { probe: 'tanhBufferProbe', ref: Math.tanh, ranges: [[0x00000000, 0x41200000], [0x80000000, 0xc1200000]] },
  erf: { probe: 'erfBufferProbe', ref: erf, ranges: [[0x00000000, 0x40bfffff], [0x80000000, 0xc0bfffff]] },
} as const;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { build: { type: 'string' } } });
const builds = values.build === undefined ? [true, false] : [values.build === 'relaxed'];
const names = (positionals.length ? positionals : Object.keys(CHECKS)) as (keyof typeof CHECKS)[];
const CHUNK = 1 << 22;
let failed = false;
for (const fma of builds) {
  const rt = new KernelRuntime({ threads: 1, fma });
  const x = rt.heap.f32(CHUNK), y = rt.heap.f32(CHUNK);
  const bits = new Uint32Array(x.buffer, x.byteOffset, CHUNK);
  for (const name of names) {
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
    console.log(`${rt.variant} ${name}: ${checked} float32 inputs checked, ${mismatches} mismatches`);
    failed ||= mismatches > 0;
  }
  await rt.close();
}
process.exitCode = failed ? 1 : 0;
