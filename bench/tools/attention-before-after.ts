/**
 * The attention kernels of an earlier checkout against this one, in the same process, interleaved: each
 * forward + backward, 1 thread, as a ratio to the GEMM rate at the same FLOPs (measured in the same rounds).
 * The earlier checkout is the commit before the panel kernels (33c3210), whose API this file calls:
 *   mkdir /tmp/before && git archive 33c3210 | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
 *   (cd /tmp/before && node scripts/build-kernels.mjs)
 *   npx tsx bench/tools/attention-before-after.ts /tmp/before [time-ms=1500] [T:D ...]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attentionBench, attentionBuffers, attentionFlops, gemmWithFlops, type AttentionShape } from '../lib/attention.js';
import { gflops, interleaved, medianRatio } from '../lib/measure.js';
import { formatTable } from '../lib/table.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';

const [dir, timeArg, ...shapeArgs] = process.argv.slice(2);
if (!dir) throw new Error('usage: npx tsx bench/tools/attention-before-after.ts <earlier checkout> [time-ms] [T:D ...]');
const time = Number(timeArg ?? 1500);
const grid = shapeArgs.length ? shapeArgs.map((a) => a.split(':').map(Number)) : [128, 512, 2048].flatMap((t) => [16, 32, 64, 96].map((d) => [t, d]));
const load = (f: string) => import(pathToFileURL(resolve(dir, f)).href);
const Old = await load('src/kernels/runtime.ts');
const OldA = await load('src/kernels/attention.ts');

const oldRt = new Old.KernelRuntime({ threads: 1 }), rt = new KernelRuntime({ threads: 1 });

/** The earlier API: separate materialized and flash entry points, P as [B, H, T, T], lse as [B, H, T]. */
function before(s: AttentionShape, variant: 'materialized' | 'flash'): () => void {
  const b = attentionBuffers(oldRt, s);
  const shape = { ...s, scale: 1 / Math.sqrt(s.headDim) };
  const probs = oldRt.heap.f32(s.batch * s.heads * s.seq * s.seq), lse = oldRt.heap.f32(s.batch * s.heads * s.seq);
  const dOut = { o: b.out.dO, strides: b.out.strides };
  return variant === 'materialized'
    ? () => { OldA.attentionForward(oldRt, shape, b.x, b.out, probs.byteOffset); OldA.attentionBackward(oldRt, shape, b.x, dOut, probs.byteOffset, probs.byteOffset, b.grads); }
    : () => { OldA.flashAttentionForward(oldRt, shape, b.x, b.out, lse.byteOffset); OldA.flashAttentionBackward(oldRt, shape, b.x, b.out, b.out.dO, lse.byteOffset, b.grads); };
}

const rows = [];
for (const [seq, headDim] of grid) {
  const s: AttentionShape = { batch: seq! >= 2048 ? 1 : 2, heads: seq! >= 2048 ? 2 : 4, seq: seq!, headDim: headDim! };
  process.stderr.write(`  … T=${s.seq} D=${s.headDim}\n`);
  const f = attentionFlops(s), g = gemmWithFlops(rt, f);
  const r = await interleaved({ mBefore: before(s, 'materialized'), mAfter: attentionBench(rt, s, 'materialized'),
    fBefore: before(s, 'flash'), fAfter: attentionBench(rt, s, 'flash'), gemm: g.call }, 2 * time);
  const within = (k: keyof typeof r) => (f / g.flops) * medianRatio(r[k], r.gemm);
  const best = (k: keyof typeof r) => gflops(f, r[k].best) / gflops(g.flops, r.gemm.best);
  rows.push([`B${s.batch}·H${s.heads} T=${s.seq} D=${s.headDim}`, gflops(g.flops, r.gemm.best),
    within('mBefore'), within('mAfter'), within('fBefore'), within('fAfter'), best('mBefore'), best('mAfter'), best('fBefore'), best('fAfter')]);
}
process.stdout.write(`${formatTable({
  title: `Attention forward + backward / GEMM at the same FLOPs, 1 thread, before (${dir}) and after, interleaved in one run`,
  columns: ['shape', 'GEMM GFLOP/s (fastest)', 'materialized before', 'after', 'flash before', 'after', 'fastest: mat. before', 'after', 'flash before', 'after'],
  rows,
  notes: [
    'Ratios: the median over 7 interleaved rounds of the ratio within a round, then the ratio of the fastest rounds.',
    'Before, the materialized kernel used a float32 polynomial exp; after, it has fdlibm\'s exp bits (the reference\'s), and flash has the polynomial.',
  ],
})}\n`);
await Promise.all([oldRt.close(), rt.close()]);
