import { getPreset } from '../../src/model/presets.js';
import { paddedVocabSize } from '../../src/model/config.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { gflops, interleaved, medianSeconds } from '../lib/measure.js';
import { runNumpy } from '../lib/numpy.js';
import { jsGemm } from '../lib/plain-js.js';
import type { BenchContext, Suite, Table } from '../lib/suite.js';

type Op = 'nn' | 'nt' | 'tn';
interface Shape { label: string; op: Op; m: number; n: number; k: number }
const OP_CODE: Record<Op, number> = { nn: 0, nt: 1, tn: 2 };

/** The products one training step of `preset` runs (batch 8): each linear layer's forward, dX and dW. */
function trainerShapes(presetName: string, batch = 8): Shape[] {
  const cfg = getPreset(presetName);
  const rows = batch * cfg.seqLength;
  const h = cfg.hiddenSize;
  const linears: [string, number, number][] = [['qkv', h, 3 * h], ['dense', h, h], ['h→4h', h, cfg.ffnHiddenSize], ['4h→h', cfg.ffnHiddenSize, h],
    ['unembed', h, paddedVocabSize(cfg)]];
  return linears.flatMap(([name, inF, outF]) => [
    { label: `${presetName} ${name} fwd`, op: 'nt' as const, m: rows, n: outF, k: inF },
    { label: `${presetName} ${name} dX`, op: 'nn' as const, m: rows, n: inF, k: outF },
    { label: `${presetName} ${name} dW`, op: 'tn' as const, m: outF, n: inF, k: rows },
  ]);
}

/** A call of the product on `rt`, operands filled once. */
function wasmCall(rt: KernelRuntime, s: Shape): () => void {
  const aLen = s.m * s.k, bLen = s.k * s.n;
  const a = rt.heap.f32(aLen), b = rt.heap.f32(bLen), c = rt.heap.f32(s.m * s.n);
  for (let i = 0; i < aLen; i++) a[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  for (let i = 0; i < bLen; i++) b[i] = ((i * 104729) % 1000) / 1000 - 0.5;
  const lda = s.op === 'tn' ? s.m : s.k, ldb = s.op === 'nt' ? s.k : s.n;
  const args = [OP_CODE[s.op], s.m, s.n, s.k, a.byteOffset, lda, b.byteOffset, ldb, c.byteOffset, s.n, 1, 0, 0, 1, 0, 0, 0];
  return () => void rt.run('gemm', args);
}

/** Plain JS on the first m' rows (same n, k; its rate does not depend on m), so one call stays short. */
async function jsRate(s: Shape, ctx: BenchContext): Promise<number> {
  const m = Math.min(s.m, Math.max(4, Math.floor(1.5e8 / (2 * s.n * s.k))));
  const a = new Float32Array(m * s.k).map((_, i) => (i % 13) / 13);
  const b = new Float32Array(s.k * s.n).map((_, i) => (i % 7) / 7);
  const c = new Float32Array(m * s.n);
  return gflops(2 * m * s.n * s.k, await medianSeconds(() => jsGemm(m, s.n, s.k, a, b, c), ctx.time, 2));
}

export const suite: Suite = {
  name: 'gemm',
  description: 'SGEMM GFLOP/s: square sizes and the products of a neox-small training step; wasm (portable, FMA; 1 and 2 threads) vs plain JS, numpy/OpenBLAS and the 128-bit peak',
  async run(ctx) {
    const squares: Shape[] = (ctx.quick ? [256, 512] : [256, 512, 1024, 2048]).map((n) => ({ label: `${n}³`, op: 'nn', m: n, n, k: n }));
    const shapes = [...squares, ...(ctx.quick ? [] : trainerShapes('neox-small'))];
    const specs = shapes.map((s) => `${s.op}:${s.m}:${s.n}:${s.k}`);
    ctx.log('numpy baselines…');
    const np1 = runNumpy('numpy_gemm.py', [String(ctx.time), ...specs], 1);
    const np2 = runNumpy('numpy_gemm.py', [String(ctx.time), ...specs], 2);
    const npAvx2 = runNumpy('numpy_gemm.py', [String(ctx.time), 'nn:1024:1024:1024'], 1, 'Haswell');
    const runtimes = { portable1: new KernelRuntime({ threads: 1, fma: false }), fma1: new KernelRuntime({ threads: 1, fma: true }), fma2: new KernelRuntime({ threads: 2, fma: true }) };
    const peak = ctx.machine.peak128GflopsPerCore;
    const rows = [];
    const data: Record<string, unknown>[] = [];
    try {
      for (const s of shapes) {
        ctx.log(`gemm ${s.label} (${s.op} ${s.m}×${s.n}×${s.k})`);
        const js = await jsRate(s, ctx);
        const t = await interleaved({ p1: wasmCall(runtimes.portable1, s), f1: wasmCall(runtimes.fma1, s), f2: wasmCall(runtimes.fma2, s) }, 3 * ctx.time);
        const flops = 2 * s.m * s.n * s.k;
        const [p1, f1, f2] = [gflops(flops, t.p1.median), gflops(flops, t.f1.median), gflops(flops, t.f2.median)];
        const best = { p1: gflops(flops, t.p1.best), f1: gflops(flops, t.f1.best), f2: gflops(flops, t.f2.best) };
        const spec = `${s.op}:${s.m}:${s.n}:${s.k}`;
        const n1 = (np1?.gflops as Record<string, number> | undefined)?.[spec] ?? null;
        const n2 = (np2?.gflops as Record<string, number> | undefined)?.[spec] ?? null;
        rows.push({ s, js, p1, f1, f2, n1, n2, best });
        data.push({ ...s, plainJs: js, wasmPortable1: p1, wasmFma1: f1, wasmFma2: f2, numpy1: n1, numpy2: n2, bestRound: best });
      }
    } finally {
      await Promise.all(Object.values(runtimes).map((r) => r.close()));
    }
    const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : a / b);
    const rates: Table = {
      title: 'SGEMM, GFLOP/s (median)',
      columns: ['product', 'op', 'plain JS', 'wasm simd128 1T', 'wasm FMA 1T', 'wasm FMA 2T', 'numpy 1T', 'numpy 2T'],
      rows: rows.map((r) => [r.s.label, r.s.op, r.js, r.p1, r.f1, r.f2, r.n1, r.n2]),
      notes: [
        `numpy ${String(np1?.numpy ?? 'unavailable')}, OpenBLAS kernel "${np1?.core ?? '?'}" (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for the child; OPENBLAS_NUM_THREADS=1|2).`,
        'plain JS: i-k-j loop over Float32Array, measured on the first m\' rows (same n, k) so a call stays under ~0.3 s.',
        'The three wasm columns are measured interleaved (7 alternating tinybench rounds, median of round medians).',
      ],
    };
    const ratios: Table = {
      title: 'SGEMM ratios (same run)',
      columns: ['product', 'FMA 1T / plain JS', 'FMA 1T / numpy 1T', 'FMA 1T / 128-bit peak', 'FMA 2T / FMA 1T', 'FMA 2T / numpy 2T', 'FMA / simd128 (1T)'],
      rows: rows.map((r) => [r.s.label, r.f1 / r.js, ratio(r.f1, r.n1), r.f1 / peak, r.f2 / r.f1, ratio(r.f2, r.n2), r.f1 / r.p1]),
      notes: [
        `128-bit peak = ${peak.toFixed(1)} GFLOP/s per core: 16 flop/cycle (2 f32x4 FMA per cycle) × ${ctx.machine.clockGHz.toFixed(2)} GHz measured; a register-only FMA loop reaches ${ctx.machine.fmaLoopGflops.toFixed(1)}.`,
        npAvx2 ? `numpy with OpenBLAS's 256-bit Haswell (AVX2) kernel forced (OPENBLAS_CORETYPE=Haswell), 1T, 1024³: ${(npAvx2.gflops as Record<string, number>)['nn:1024:1024:1024']!.toFixed(1)} GFLOP/s.` : 'numpy Haswell-kernel comparison unavailable.',
      ],
    };
    const best: Table = {
      title: 'SGEMM, fastest interleaved round (what the machine does when no other process holds a core)',
      columns: ['product', 'wasm simd128 1T', 'wasm FMA 1T', 'wasm FMA 2T', 'FMA 1T / 128-bit peak', 'FMA 2T / FMA 1T'],
      rows: rows.map((r) => [r.s.label, r.best.p1, r.best.f1, r.best.f2, r.best.f1 / peak, r.best.f2 / r.best.f1]),
    };
    return { tables: [rates, ratios, best], data: { shapes: data, numpyCore: np1?.core, numpyAvx2_1024: npAvx2?.gflops ?? null, peak128PerCore: peak } };
  },
};
