import type { KernelRuntime } from './runtime.js';

/**
 * Causal self-attention kernels over (batch, head) slices of strided tensors, forward and backward, in the
 * reference order of Kernels.attention (src/backends/kernels.ts; docs/numerics.md). Two variants:
 * - materialized: the probabilities P (j ≤ i, about T²/2 floats per head) are kept in `saved`, as the
 *   2022 run's softmax path kept them; the backward reads P and writes dS over it.
 * - flash: `saved` keeps the softmax's max and sum per query (O(T)); the backward recomputes P block by
 *   block, bit for bit, and takes FlashAttention's δ = Σ dO∘O for the row term.
 * Pointers are byte addresses in the runtime's memory; strides are in elements. Results are deterministic
 * and the same for every thread count: every output is computed by one task in a fixed order.
 */
export type AttentionVariant = 'materialized' | 'flash';

export interface AttentionShape {
  batch: number;
  heads: number;
  seq: number;
  headDim: number;
  /** Multiplies Q·Kᵀ (usually 1/√headDim), and dQ, dK in the backward. */
  scale: number;
}

/** Element (b, h, t, d) of a tensor is at ptr + 4·(b·batch + h·head + t·row + d). */
export interface Strides { batch: number; head: number; row: number }

/** Q, K, V (or dQ, dK, dV): three tensors with one layout, e.g. NeoX's fused [B, T, H, 3, D] view. */
export interface HeadTriple { q: number; k: number; v: number; strides: Strides }

/** The attention output O and its gradient dO, one layout, e.g. [B, T, H·D] ready for the dense projection. */
export interface HeadOutput { o: number; dO?: number; strides: Strides }

export interface AttentionOptions {
  variant: AttentionVariant;
  /** Round every stored value to binary16 (the f16 backend). */
  f16?: boolean;
  /** Use every thread (default); false runs on the calling thread (small jobs). */
  parallel?: boolean;
}

function check(s: AttentionShape): void {
  for (const [k, v] of Object.entries({ batch: s.batch, heads: s.heads, seq: s.seq, headDim: s.headDim })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`attention: ${k} must be a positive integer, got ${v}`);
  }
}

/** Floats of the `saved` buffer that attentionForward fills and attentionBackward reads. */
export function attentionSavedFloats(rt: KernelRuntime, s: Omit<AttentionShape, 'scale' | 'headDim'>, variant: AttentionVariant): number {
  return s.batch * s.heads * rt.run('savedFloatsPerHead', [s.seq, +(variant === 'flash')], false);
}

const shapeArgs = (s: AttentionShape) => [s.batch, s.heads, s.seq, s.headDim];
const stridesArgs = (t: { strides: Strides }) => [t.strides.batch, t.strides.head, t.strides.row];

function prepare(rt: KernelRuntime, s: AttentionShape, o: AttentionOptions): void {
  check(s);
  rt.ensureScratch(rt.run('attentionScratchBytes', [s.seq, s.headDim, +(o.variant === 'flash')], false));
}

/** Writes out.o, and P (materialized) or the softmax statistics (flash) to `saved`. */
export function attentionForward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, out: HeadOutput, saved: number, o: AttentionOptions): void {
  prepare(rt, s, o);
  rt.run('attentionForward', [...shapeArgs(s), Math.fround(s.scale), x.q, x.k, x.v, ...stridesArgs(x), out.o, ...stridesArgs(out), saved,
    +(o.variant === 'flash'), +!!o.f16], o.parallel ?? true);
}

/**
 * dQ, dK, dV into `grads` (the layout of x) from out.dO and what the forward saved; out.o is read by the
 * flash variant. The materialized backward overwrites `saved` (dS replaces P).
 */
export function attentionBackward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, out: HeadOutput, saved: number, grads: HeadTriple,
  o: AttentionOptions): void {
  prepare(rt, s, o);
  const a = x.strides, g = grads.strides;
  if (a.batch !== g.batch || a.head !== g.head || a.row !== g.row) throw new RangeError('attention backward: dQ, dK, dV must have the layout of Q, K, V');
  if (out.dO === undefined) throw new RangeError('attention backward: out.dO is required');
  const shape = shapeArgs(s), scale = Math.fround(s.scale), f16 = +!!o.f16, parallel = o.parallel ?? true;
  if (o.variant === 'flash') {
    rt.run('flashAttentionBackward', [...shape, scale, x.q, x.k, x.v, ...stridesArgs(x), out.o, out.dO, ...stridesArgs(out), saved,
      grads.q, grads.k, grads.v, f16], parallel);
    return;
  }
  rt.run('attentionBackwardKeys', [...shape, saved, out.dO, ...stridesArgs(out), grads.v, ...stridesArgs(x), 1, 0, f16], parallel);
  rt.run('attentionBackwardQueries', [...shape, scale, x.k, x.v, ...stridesArgs(x), out.dO, ...stridesArgs(out), saved, grads.q, f16], parallel);
  rt.run('attentionBackwardKeys', [...shape, saved, x.q, ...stridesArgs(x), grads.k, ...stridesArgs(x), scale, 1, f16], parallel);
}
