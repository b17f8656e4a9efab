import * as A from '../../src/kernels/attention.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { gflops, interleaved, medianSeconds } from '../lib/measure.js';
import { runNumpy } from '../lib/numpy.js';
import { jsAttention } from '../lib/plain-js.js';
import type { BenchContext, Suite, Table } from '../lib/suite.js';

interface Shape { batch: number; heads: number; seq: number; headDim: number }

/**
 * Causal attention FLOPs of forward + backward: per head, Q·Kᵀ and P·V over the T(T+1)/2 visible pairs
 * (2·D flops each) forward, and dV, dP, dQ, dK backward: 6 products × 2·D flops × pairs. Recomputation
 * in the flash backward is not counted (the same FLOPs for both variants, as the model needs them).
 */
const flops = (s: Shape) => s.batch * s.heads * 6 * 2 * s.headDim * (s.seq * (s.seq + 1)) / 2;

/** Buffers in NeoX's fused layout ([B, T, H, 3, D] in, [B, T, H·D] out). */
function buffers(rt: KernelRuntime, s: Shape) {
  const { batch: B, heads: H, seq: T, headDim: D } = s;
  const qkv = rt.heap.f32(B * T * H * 3 * D), grads = rt.heap.f32(qkv.length);
  const o = rt.heap.f32(B * T * H * D), dO = rt.heap.f32(o.length);
  for (let i = 0; i < qkv.length; i++) qkv[i] = ((i * 7919) % 1000) / 500 - 1;
  for (let i = 0; i < dO.length; i++) dO[i] = ((i * 104729) % 1000) / 1000 - 0.5;
  const strides = { batch: T * H * 3 * D, head: 3 * D, row: H * 3 * D };
  const triple = (buf: Float32Array) => ({ q: buf.byteOffset, k: buf.byteOffset + 4 * D, v: buf.byteOffset + 8 * D, strides });
  const outStrides = { batch: T * H * D, head: D, row: H * D };
  return { x: triple(qkv), g: triple(grads), out: { o: o.byteOffset, strides: outStrides }, dO: dO.byteOffset,
    dOut: { o: dO.byteOffset, strides: outStrides }, probs: rt.heap.f32(B * H * T * T).byteOffset, lse: rt.heap.f32(B * H * T).byteOffset };
}

function wasmCall(rt: KernelRuntime, s: Shape, variant: 'materialized' | 'flash'): () => void {
  const b = buffers(rt, s);
  const shape = { ...s, scale: 1 / Math.sqrt(s.headDim) };
  return variant === 'materialized'
    ? () => { A.attentionForward(rt, shape, b.x, b.out, b.probs); A.attentionBackward(rt, shape, b.x, b.dOut, b.probs, b.probs, b.g); }
    : () => { A.flashAttentionForward(rt, shape, b.x, b.out, b.lse); A.flashAttentionBackward(rt, shape, b.x, b.out, b.dO, b.lse, b.g); };
}

/** A square n³ SGEMM with 2n³ ≈ the attention's FLOPs: the GEMM rate on the same FLOPs. */
function gemmCall(rt: KernelRuntime, f: number): { call: () => void; flops: number } {
  const n = Math.max(64, Math.round(Math.cbrt(f / 2) / 16) * 16);
  const a = rt.heap.f32(n * n), b = rt.heap.f32(n * n), c = rt.heap.f32(n * n);
  a.fill(0.5); b.fill(0.25);
  const args = [0, n, n, n, a.byteOffset, n, b.byteOffset, n, c.byteOffset, n, 1, 0, 0, 1, 0, 0, 0];
  return { call: () => void rt.run('gemm', args), flops: 2 * n ** 3 };
}

/** Plain JS on one head (its rate per FLOP does not depend on the number of heads). */
async function jsRate(s: Shape, ctx: BenchContext): Promise<number> {
  const { seq: T, headDim: D } = s;
  const arr = (n: number, k: number) => new Float32Array(n).map((_, i) => ((i * k) % 1000) / 1000 - 0.5);
  const [q, k, v, dO] = [arr(T * D, 7919), arr(T * D, 104729), arr(T * D, 13), arr(T * D, 31)];
  const [o, dq, dk, dv, p] = [new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * D), new Float32Array(T * T)];
  const one = { ...s, batch: 1, heads: 1 };
  return gflops(flops(one), await medianSeconds(() => jsAttention(T, D, 1 / Math.sqrt(D), q, k, v, dO, o, dq, dk, dv, p), ctx.time, 2));
}

export const suite: Suite = {
  name: 'attention',
  description: 'causal attention forward+backward GFLOP/s, materialized and flash (tiled online-softmax) variants, 1 and 2 threads, vs the GEMM rate at the same FLOPs, plain JS and numpy',
  async run(ctx) {
    const shapes: Shape[] = (ctx.quick ? [256] : [256, 512, 1024]).map((seq) => ({ batch: 2, heads: 4, seq, headDim: 64 }));
    ctx.log('numpy baselines…');
    const specs = shapes.map((s) => `${s.batch}:${s.heads}:${s.seq}:${s.headDim}`);
    const np1 = runNumpy('numpy_attention.py', [String(ctx.time), ...specs], 1);
    const np2 = runNumpy('numpy_attention.py', [String(ctx.time), ...specs], 2);
    const rt1 = new KernelRuntime({ threads: 1 }), rt2 = new KernelRuntime({ threads: 2 });
    const rows = [];
    try {
      for (const [i, s] of shapes.entries()) {
        ctx.log(`attention B=${s.batch} H=${s.heads} T=${s.seq} D=${s.headDim}`);
        const f = flops(s);
        const g1 = gemmCall(rt1, f), g2 = gemmCall(rt2, f);
        const tr = await interleaved({
          m1: wasmCall(rt1, s, 'materialized'), f1: wasmCall(rt1, s, 'flash'), m2: wasmCall(rt2, s, 'materialized'), f2: wasmCall(rt2, s, 'flash'),
          g1: g1.call, g2: g2.call,
        }, 3 * ctx.time);
        const t = Object.fromEntries(Object.entries(tr).map(([k, v]) => [k, (v as { median: number }).median])) as Record<keyof typeof tr, number>;
        const b = Object.fromEntries(Object.entries(tr).map(([k, v]) => [k, (v as { best: number }).best])) as Record<keyof typeof tr, number>;
        const r = {
          best: { materialized1: gflops(f, b.m1), flash1: gflops(f, b.f1), materialized2: gflops(f, b.m2), flash2: gflops(f, b.f2),
            gemm1: gflops(g1.flops, b.g1), gemm2: gflops(g2.flops, b.g2) },
          shape: s, flops: f, plainJs: await jsRate(s, ctx),
          materialized1: gflops(f, t.m1), flash1: gflops(f, t.f1), materialized2: gflops(f, t.m2), flash2: gflops(f, t.f2),
          gemm1: gflops(g1.flops, t.g1), gemm2: gflops(g2.flops, t.g2),
          numpy1: np1 ? gflops(f, (np1.seconds as Record<string, number>)[specs[i]!]!) : null,
          numpy2: np2 ? gflops(f, (np2.seconds as Record<string, number>)[specs[i]!]!) : null,
        };
        rows.push(r);
      }
    } finally {
      await Promise.all([rt1.close(), rt2.close()]);
    }
    const label = (s: Shape) => `B${s.batch}·H${s.heads} T=${s.seq} D=${s.headDim}`;
    const rates: Table = {
      title: 'Causal attention forward + backward, GFLOP/s (median; causal model FLOPs)',
      columns: ['shape', 'plain JS', 'materialized 1T', 'flash 1T', 'materialized 2T', 'flash 2T', 'GEMM 1T', 'GEMM 2T', 'numpy 1T', 'numpy 2T'],
      rows: rows.map((r) => [label(r.shape), r.plainJs, r.materialized1, r.flash1, r.materialized2, r.flash2, r.gemm1, r.gemm2, r.numpy1, r.numpy2]),
      notes: [
        'FLOPs = 12·D per visible (i, j ≤ i) pair per head: Q·Kᵀ, P·V forward; dV, dP, dQ, dK backward. Flash recomputes S and P in its backward (not counted).',
        'The wasm and GEMM columns are measured interleaved (7 alternating tinybench rounds, median of round medians).',
        'GEMM = square SGEMM with the same FLOPs, same run and thread count. numpy computes full T×T products with a mask (what numpy can do), counted with the same FLOPs.',
        `plain JS measured on one head. numpy OpenBLAS kernel "${np1?.core ?? '?'}".`,
      ],
    };
    const ratios: Table = {
      title: 'Attention ratios (same run)',
      columns: ['shape', 'materialized / GEMM 1T', 'flash / GEMM 1T', 'materialized / GEMM 2T', 'flash / GEMM 2T', 'flash 1T / plain JS', 'flash 1T / numpy 1T', 'flash 2T / flash 1T'],
      rows: rows.map((r) => [label(r.shape), r.materialized1 / r.gemm1, r.flash1 / r.gemm1, r.materialized2 / r.gemm2, r.flash2 / r.gemm2,
        r.flash1 / r.plainJs, r.numpy1 === null ? null : r.flash1 / r.numpy1, r.flash2 / r.flash1]),
    };
    const best: Table = {
      title: 'Attention, fastest interleaved round (what the machine does when no other process holds a core), GFLOP/s and ratios',
      columns: ['shape', 'materialized 1T', 'flash 1T', 'materialized 2T', 'flash 2T', 'GEMM 1T', 'GEMM 2T', 'flash / GEMM 1T', 'flash / GEMM 2T', 'flash 2T / 1T'],
      rows: rows.map((r) => [label(r.shape), r.best.materialized1, r.best.flash1, r.best.materialized2, r.best.flash2, r.best.gemm1, r.best.gemm2,
        r.best.flash1 / r.best.gemm1, r.best.flash2 / r.best.gemm2, r.best.flash2 / r.best.flash1]),
    };
    return { tables: [rates, ratios, best], data: { rows } };
  },
};
