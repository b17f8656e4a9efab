import { attentionBench, attentionFlops, gemmWithFlops, type AttentionShape } from '../lib/attention.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { gflops, interleaved, medianRatio, medianSeconds } from '../lib/measure.js';
import { runNumpy } from '../lib/numpy.js';
import { jsAttention } from '../lib/plain-js.js';
import type { BenchContext, Suite, Table } from '../lib/suite.js';

/**
 * The trainer's attention shapes: head dims 16 (the tiny presets) to 96 (NeoX-20B), sequences of 128
 * (neox-small) to 2048 (Pythia, NeoX-20B). Heads × batch keep each call near a second's fraction and give
 * two threads at least two heads to share.
 */
function shapes(quick: boolean): AttentionShape[] {
  const grid = quick ? [[128, 16], [512, 64]] : [128, 512, 2048].flatMap((seq) => [16, 32, 64, 96].map((d) => [seq, d]));
  return grid.map(([seq, headDim]) => ({ batch: seq! >= 2048 ? 1 : 2, heads: seq! >= 2048 ? 2 : 4, seq: seq!, headDim: headDim! }));
}

/** Plain JS on one head (its rate per FLOP does not depend on the number of heads); not run past T = 512 (seconds per call). */
async function jsRate(s: AttentionShape, ctx: BenchContext): Promise<number | null> {
  if (s.seq > 512) return null;
  const { seq: T, headDim: D } = s;
  const arr = (n: number, k: number) => new Float32Array(n).map((_, i) => ((i * k) % 1000) / 1000 - 0.5);
  const [q, k, v, dO] = [arr(T * D, 7919), arr(T * D, 104729), arr(T * D, 13), arr(T * D, 31)];
  const [o, dq, dk, dv, p] = [new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * T)];
  const one = { ...s, batch: 1, heads: 1 };
  return gflops(attentionFlops(one), await medianSeconds(() => jsAttention(T, D, 1 / Math.sqrt(D), q, k, v, dO, o, dq, dk, dv, p), ctx.time, 2));
}

interface Rates { materialized1: number; flash1: number; gemm1: number; materialized2: number; flash2: number; gemm2: number }
interface Ratios { materialized1: number; flash1: number; materialized2: number; flash2: number }
interface Row { shape: AttentionShape; flops: number; median: Rates; best: Rates; ratios: Ratios; plainJs: number | null; numpy1: number | null }

const label = (s: AttentionShape) => `B${s.batch}·H${s.heads} T=${s.seq} D=${s.headDim}`;

export const suite: Suite = {
  name: 'attention',
  description: 'causal attention forward+backward GFLOP/s, materialized and flash kernels, 1 and 2 threads, vs the GEMM rate at the same FLOPs (same run), plain JS and numpy',
  async run(ctx) {
    const list = shapes(ctx.quick);
    ctx.log('numpy baselines…');
    const specs = list.map((s) => `${s.batch}:${s.heads}:${s.seq}:${s.headDim}`);
    const np1 = runNumpy('numpy_attention.py', [String(ctx.time), ...specs], 1);
    const rt1 = new KernelRuntime({ threads: 1 }), rt2 = new KernelRuntime({ threads: 2 });
    const rows: Row[] = [];
    try {
      for (const [i, s] of list.entries()) {
        ctx.log(`attention ${label(s)}`);
        const f = attentionFlops(s);
        const g1 = gemmWithFlops(rt1, f), g2 = gemmWithFlops(rt2, f);
        const tr = await interleaved({
          m1: attentionBench(rt1, s, 'materialized'), f1: attentionBench(rt1, s, 'flash'), g1: g1.call,
          m2: attentionBench(rt2, s, 'materialized'), f2: attentionBench(rt2, s, 'flash'), g2: g2.call,
        }, 2 * ctx.time);
        const pick = (which: 'median' | 'best'): Rates => ({ materialized1: gflops(f, tr.m1[which]), flash1: gflops(f, tr.f1[which]),
          gemm1: gflops(g1.flops, tr.g1[which]), materialized2: gflops(f, tr.m2[which]), flash2: gflops(f, tr.f2[which]), gemm2: gflops(g2.flops, tr.g2[which]) });
        // Attention / GEMM rate, the median over rounds of the ratio within each round.
        const within = (k: 'm1' | 'f1' | 'm2' | 'f2', g: 'g1' | 'g2') => (f / (g === 'g1' ? g1 : g2).flops) * medianRatio(tr[k], tr[g]);
        const ratios = { materialized1: within('m1', 'g1'), flash1: within('f1', 'g1'), materialized2: within('m2', 'g2'), flash2: within('f2', 'g2') };
        rows.push({ shape: s, flops: f, median: pick('median'), best: pick('best'), ratios, plainJs: await jsRate(s, ctx),
          numpy1: np1 ? gflops(f, (np1.seconds as Record<string, number>)[specs[i]!]!) : null });
      }
    } finally {
      await Promise.all([rt1.close(), rt2.close()]);
    }
    const rates: Table = {
      title: 'Causal attention forward + backward, GFLOP/s (median of the interleaved rounds)',
      columns: ['shape', 'plain JS', 'numpy 1T', 'materialized 1T', 'flash 1T', 'GEMM 1T', 'materialized 2T', 'flash 2T', 'GEMM 2T'],
      rows: rows.map((r) => [label(r.shape), r.plainJs, r.numpy1, r.median.materialized1, r.median.flash1, r.median.gemm1,
        r.median.materialized2, r.median.flash2, r.median.gemm2]),
      notes: [
        'FLOPs = 12·D per visible (i, j ≤ i) pair per head: Q·Kᵀ, P·V forward; dP, dV, dQ, dK backward. Flash recomputes Q·Kᵀ and P in its backward (not counted).',
        'The wasm and GEMM columns are measured interleaved (7 alternating tinybench rounds). GEMM = a square SGEMM with the same FLOPs, same thread count.',
        `plain JS on one head, up to T = 512. numpy computes full T×T products with a mask (OpenBLAS kernel "${np1?.core ?? '?'}"), counted with the same FLOPs.`,
      ],
    };
    const ratios: Table = {
      title: 'Attention / GEMM at the same FLOPs (the issue\'s target: ≥ 0.5): median over rounds of the ratio within a round, then the fastest rounds\' ratio',
      columns: ['shape', 'materialized 1T', 'flash 1T', 'materialized 2T', 'flash 2T', 'fastest: mat. 1T', 'flash 1T', '2T / 1T mat. (fastest)', '2T / 1T flash'],
      rows: rows.map((r) => [label(r.shape), r.ratios.materialized1, r.ratios.flash1, r.ratios.materialized2, r.ratios.flash2,
        r.best.materialized1 / r.best.gemm1, r.best.flash1 / r.best.gemm1, r.best.materialized2 / r.best.materialized1, r.best.flash2 / r.best.flash1]),
      notes: ['Within a round the compared calls run back to back, so they see about the same load from other processes; their ratio is steadier than a ratio of medians.'],
    };
    return { tables: [rates, ratios], data: { rows } };
  },
};
