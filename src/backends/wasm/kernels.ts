import { geluConstants } from '../js/activation.js';
import { adamwConstants } from '../js/adamw.js';
import { copy as copyReference, roundF16 as roundF16Reference } from '../js/elementwise.js';
import { embedding, embeddingBackward } from '../js/embedding.js';
import { roundingFor } from '../js/rounding.js';
import { crossEntropyLoss } from '../js/softmax.js';
import type { AttentionArgs, AttentionVariant, FloatBuf, GemmArgs, Kernels } from '../kernels.js';
import { attentionBackward, attentionForward, attentionSavedFloats, type HeadTriple } from '../../kernels/attention.js';
import type { KernelRuntime } from '../../kernels/runtime.js';
import { Staging } from './staging.js';

/** Jobs smaller than this (elements touched, or multiply-adds for GEMM) run on the calling thread alone. */
const PARALLEL_MIN_WORK = 1 << 15;
const OPS = { nn: 0, nt: 1, tn: 2 } as const;
const GEMM_ALPHA = 1, GEMM_BIAS = 2, GEMM_ACCUMULATE = 4, GEMM_F16 = 8;
const f32 = Math.fround;
const GELU = geluConstants(f32);

/**
 * The `wasm` backend for f32 and f16 storage: WebAssembly SIMD kernels on all cores. Exactness (kernels.ts
 * contract): every op not marked reorderable is the reference's rounded float32 op in the reference's
 * order, with exp/tanh/erf ported bit for bit; reorderable sums are lane-blocked and, in the relaxed-SIMD
 * build, fused. Results are deterministic and the same for every thread count.
 */
export class WasmKernels implements Kernels {
  readonly name: string;
  readonly exact = false;
  /** e.g. "wasm relaxed-fma (fused), 2 threads": which build runs, for the numeric spec. */
  readonly variant: string;
  private readonly f16: boolean;
  private readonly R;

  constructor(private readonly rt: KernelRuntime, readonly dtype: 'f32' | 'f16') {
    this.name = `wasm-${dtype}`;
    this.variant = rt.describe();
    this.f16 = dtype === 'f16';
    this.R = roundingFor(dtype);
  }

  alloc(n: number): Float32Array { return this.rt.heap.f32(n); }
  allocIds(n: number): Int32Array { return this.rt.heap.i32(n); }

  gemm(g: GemmArgs): void {
    const { m, n, k } = g;
    const batch = g.batch ?? 1;
    if (m === 0 || n === 0 || batch === 0) return;
    const alpha = g.alpha ?? 1;
    const flags = (alpha !== 1 ? GEMM_ALPHA : 0) | (g.bias ? GEMM_BIAS : 0) | (g.accumulate ? GEMM_ACCUMULATE : 0) | (this.f16 ? GEMM_F16 : 0);
    this.call('gemm', batch * m * n * Math.max(k, 1), (s) => [OPS[g.op], m, n, k, s.in(f(g.a)), g.lda, s.in(f(g.b)), g.ldb,
      s.out(f(g.c)), g.ldc, f32(alpha), g.bias ? s.in(f(g.bias)) : 0, flags, batch, g.strideA ?? 0, g.strideB ?? 0, g.strideC ?? 0]);
  }

  layerNorm(a: Parameters<Kernels['layerNorm']>[0]): void {
    this.call('layerNormForward', a.rows * a.n, (s) => [a.rows, a.n, s.in(f(a.x)), s.in(f(a.gamma)), s.in(f(a.beta)), f32(a.eps),
      s.out(f(a.y)), s.out(f(a.mean)), s.out(f(a.rstd)), +this.f16]);
  }

  layerNormBackward(a: Parameters<Kernels['layerNormBackward']>[0]): void {
    // Parameter gradients first: they read dy, which dx may overwrite.
    this.call('layerNormBackwardParams', a.rows * a.n, (s) => [a.rows, a.n, s.in(f(a.x)), s.in(f(a.mean)), s.in(f(a.rstd)),
      s.in(f(a.dy)), s.out(f(a.dgamma)), s.out(f(a.dbeta)), +this.f16]);
    this.call('layerNormBackwardDx', a.rows * a.n, (s) => [a.rows, a.n, s.in(f(a.x)), s.in(f(a.gamma)), s.in(f(a.mean)),
      s.in(f(a.rstd)), s.in(f(a.dy)), s.out(f(a.dx)), +!!a.accumulateDx, +this.f16]);
  }

  gelu(a: Parameters<Kernels['gelu']>[0]): void {
    this.call('geluForward', 8 * a.rows * a.cols, (s) => [a.rows, a.cols, s.in(f(a.x)), a.bias ? s.in(f(a.bias)) : 0, s.out(f(a.y)),
      +(a.kind === 'erf'), GELU.k, GELU.c, GELU.sqrtHalf, +this.f16]);
  }

  geluBackward(a: Parameters<Kernels['geluBackward']>[0]): void {
    this.call('geluBackward', 8 * a.rows * a.cols, (s) => [a.rows, a.cols, s.in(f(a.x)), a.bias ? s.in(f(a.bias)) : 0, s.in(f(a.dy)),
      s.out(f(a.dx)), +(a.kind === 'erf'), GELU.k, GELU.c, GELU.k3c, GELU.sqrtHalf, GELU.invSqrt2Pi, +this.f16]);
  }

  addBias(a: Parameters<Kernels['addBias']>[0]): void {
    this.call('addBias', a.rows * a.cols, (s) => [a.rows, a.cols, s.out(f(a.y)), s.in(f(a.bias)), +this.f16]);
  }

  biasGrad(a: Parameters<Kernels['biasGrad']>[0]): void {
    this.call('biasGrad', a.rows * a.cols, (s) => [a.rows, a.cols, s.in(f(a.dy)), s.out(f(a.db)), +this.f16]);
  }

  add(a: Parameters<Kernels['add']>[0]): void {
    this.call('add', a.n, (s) => [a.n, s.in(f(a.a)), s.in(f(a.b)), s.out(f(a.y)), +!!a.accumulate, +this.f16]);
  }

  scale(a: Parameters<Kernels['scale']>[0]): void {
    this.call('scale', a.n, (s) => [a.n, s.in(f(a.x)), f32(a.alpha), s.out(f(a.y)), +this.f16]);
  }

  copy(a: Parameters<Kernels['copy']>[0]): void {
    if (!(a.x instanceof Float32Array)) return copyReference(this.R, a); // a cast from float64: one rounding per element
    if (!this.f16) return void f(a.y).set(a.x.subarray(0, a.n));
    this.call('copy', a.n, (s) => [a.n, s.in(a.x as Float32Array), s.out(f(a.y)), 1]);
  }

  roundF16(a: Parameters<Kernels['roundF16']>[0]): void {
    if (!(a.x instanceof Float32Array)) return roundF16Reference(a);
    this.call('roundF16Blocks', a.n, (s) => [a.n, s.in(a.x as Float32Array), s.out(f(a.y))]);
  }

  fill(a: Parameters<Kernels['fill']>[0]): void {
    a.y.fill(a.value, 0, a.n);
  }

  rotary(a: Parameters<Kernels['rotary']>[0]): void {
    this.call('rotary', a.rows * a.heads * a.rotDims, (s) => [a.rows, a.seq, a.heads, a.headStride, a.ld, a.rotDims, s.out(f(a.x)),
      s.in(f(a.cos)), s.in(f(a.sin)), +!!a.inverse, +this.f16]);
  }

  causalSoftmax(a: Parameters<Kernels['causalSoftmax']>[0]): void {
    this.call('causalSoftmaxForward', 4 * a.count * a.t * a.t, (s) => [a.count, a.t, s.in(f(a.x)), s.out(f(a.y)), +this.f16]);
  }

  causalSoftmaxBackward(a: Parameters<Kernels['causalSoftmaxBackward']>[0]): void {
    this.call('causalSoftmaxBackward', a.count * a.t * a.t, (s) => [a.count, a.t, s.in(f(a.y)), s.in(f(a.dy)), s.out(f(a.dx)), +this.f16]);
  }

  crossEntropy(a: Parameters<Kernels['crossEntropy']>[0]): void {
    checkTargets(a.targets, a.rows, a.v);
    const stats = this.rt.heap.alloc(8 * a.rows);
    try {
      this.call('crossEntropyStats', 4 * a.rows * a.v, (s) => [a.rows, a.v, s.in(f(a.logits)), stats]);
      const st = this.rt.heap.f32At(stats, 2 * a.rows);
      for (let i = 0; i < a.rows; i++) a.losses[i] = crossEntropyLoss(f32, st[2 * i]!, st[2 * i + 1]!, a.logits[i * a.v + a.targets[i]!]!);
    } finally {
      this.rt.heap.release(stats);
    }
  }

  crossEntropyBackward(a: Parameters<Kernels['crossEntropyBackward']>[0]): void {
    checkTargets(a.targets, a.rows, a.v);
    this.call('crossEntropyBackward', 8 * a.rows * a.v, (s) => [a.rows, a.v, s.in(f(a.logits)), s.in(a.targets), f32(a.gradScale),
      s.out(f(a.dlogits)), +this.f16]);
  }

  embedding(a: Parameters<Kernels['embedding']>[0]): void {
    embedding(this.R, a); // a gather: the reference loop is already memory-bound
  }

  embeddingBackward(a: Parameters<Kernels['embeddingBackward']>[0]): void {
    embeddingBackward(this.R, a); // ordered by row (nothing reorderable): the reference loop
  }

  adamw(a: Parameters<Kernels['adamw']>[0]): void {
    const c = adamwConstants(f32, a);
    this.call('adamw', 4 * a.n, (s) => [a.n, s.out(f(a.p)), s.in(f(a.g)), s.out(f(a.m)), s.out(f(a.v)), c.lr, c.b1, c.b2,
      c.oneMinusB1, c.oneMinusB2, c.bc1, c.bc2, c.eps, c.wd, +this.f16]);
  }

  readonly attentionVariants: readonly AttentionVariant[] = ['materialized', 'flash'];

  attentionSavedSize(a: Parameters<Kernels['attentionSavedSize']>[0]): number {
    return attentionSavedFloats(this.rt, a, a.variant ?? 'materialized');
  }

  attention(a: AttentionArgs): void {
    const { shape, qkvStrides, ctxStrides, opts } = this.attentionParts(a);
    this.stage((s) => attentionForward(this.rt, shape, fused(s.in(f(a.qkv)), a.headDim, qkvStrides), { o: s.out(f(a.ctx)), strides: ctxStrides },
      s.out(f(a.saved)), opts));
  }

  attentionBackward(a: AttentionArgs & { dctx: FloatBuf; dqkv: FloatBuf }): void {
    const { shape, qkvStrides, ctxStrides, opts } = this.attentionParts(a);
    this.stage((s) => attentionBackward(this.rt, shape, fused(s.in(f(a.qkv)), a.headDim, qkvStrides),
      { o: s.in(f(a.ctx)), dO: s.in(f(a.dctx)), strides: ctxStrides }, s.out(f(a.saved)), fused(s.out(f(a.dqkv)), a.headDim, qkvStrides), opts));
  }

  /** The kernels' view of an attention call: NeoX's fused [batch, seq, heads, 3, headDim] in, [batch, seq, heads·headDim] out. */
  private attentionParts(a: AttentionArgs) {
    const { batch, seq, heads, headDim } = a;
    return {
      shape: { batch, heads, seq, headDim, scale: a.scale },
      qkvStrides: { batch: seq * heads * 3 * headDim, head: 3 * headDim, row: heads * 3 * headDim },
      ctxStrides: { batch: seq * heads * headDim, head: headDim, row: heads * headDim },
      opts: { variant: a.variant ?? 'materialized', f16: this.f16, parallel: batch * heads * seq * seq * headDim >= PARALLEL_MIN_WORK },
    };
  }

  sum(a: { n: number; x: FloatBuf }): number {
    return this.blockSum(a.n, a.x, false);
  }

  sumSquares(a: { n: number; x: FloatBuf }): number {
    return this.blockSum(a.n, a.x, true);
  }

  /** Σ (or Σ x²) in float64 over fixed 4096-element blocks, the block sums added in ascending order. */
  private blockSum(n: number, x: FloatBuf, squares: boolean): number {
    if (n === 0) return 0;
    const blocks = Math.ceil(n / 4096);
    const partials = this.rt.heap.alloc(8 * blocks);
    try {
      this.call('sumBlocks', n, (s) => [n, s.in(f(x)), +squares, partials]);
      const p = this.rt.heap.f64At(partials, blocks);
      let total = 0;
      for (let b = 0; b < blocks; b++) total += p[b]!;
      return total;
    } finally {
      this.rt.heap.release(partials);
    }
  }

  /** Runs one kernel export with its buffers resolved to pointers; `work` decides whether to use all threads. */
  private call(name: string, work: number, args: (s: Staging) => number[]): void {
    this.stage((s) => this.rt.run(name, args(s), work >= PARALLEL_MIN_WORK));
  }

  /** Runs `body` with a staging area for buffers outside the kernel memory (copied back when written). */
  private stage(body: (s: Staging) => void): void {
    const staging = new Staging(this.rt.heap);
    try {
      body(staging);
    } finally {
      staging.finish();
    }
  }
}

/** q, k and v of NeoX's fused QKV rows at `ptr`: one head's three blocks of d floats are adjacent. */
function fused(ptr: number, d: number, strides: HeadTriple['strides']): HeadTriple {
  return { q: ptr, k: ptr + 4 * d, v: ptr + 8 * d, strides };
}

/** The f32/f16 backends compute on Float32Array buffers only. */
function f(buf: FloatBuf): Float32Array {
  if (!(buf instanceof Float32Array)) throw new TypeError(`wasm backend: expected a Float32Array buffer, got ${buf.constructor.name}`);
  return buf;
}

function checkTargets(targets: Int32Array, rows: number, v: number): void {
  for (let i = 0; i < rows; i++) {
    const t = targets[i]!;
    if (!(t >= 0 && t < v)) throw new RangeError(`cross entropy: target ${t} of row ${i} is outside [0, ${v})`);
  }
}
