import type { KernelRuntime } from './runtime.js';

/**
 * Causal self-attention kernels over (batch, head) slices of strided tensors. Two variants:
 * - materialized: S = scale·Q·Kᵀ and the probabilities P = softmax(S) (j ≤ i) are written to a
 *   [batch, heads, seq, seq] buffer, as the 2022 run's softmax path kept them; the backward reads P.
 * - flash: tiled with an online softmax; only lse = log Σ exp(S) per row ([batch, heads, seq]) is kept,
 *   and the backward recomputes P block by block. Memory O(seq) instead of O(seq²).
 * Pointers are byte addresses in the runtime's memory; strides are in elements. Results are deterministic
 * and the same for every thread count (every output is computed by one task in a fixed order).
 */
export interface AttentionShape {
  batch: number;
  heads: number;
  seq: number;
  headDim: number;
  /** Multiplies Q·Kᵀ (usually 1/√headDim). */
  scale: number;
}

/** Element (b, h, t, d) of a tensor is at ptr + 4·(b·batch + h·head + t·row + d). */
export interface Strides { batch: number; head: number; row: number }

/** Q, K, V (or dQ, dK, dV): three tensors with one layout, e.g. NeoX's fused [B, T, H, 3, D] view. */
export interface HeadTriple { q: number; k: number; v: number; strides: Strides }

/** The attention output O (and its gradient dO), e.g. [B, T, H·D] ready for the dense projection. */
export interface HeadOutput { o: number; strides: Strides }

/** The flash kernels tile with 64×64 blocks and keep operands packed in 64×256 panels. */
export const MAX_HEAD_DIM = 256;
/** The materialized backward keeps 64 rows of dP (64·seq floats) in each thread's 8 MiB scratch. */
export const MAX_MATERIALIZED_SEQ = 24576;

function check(s: AttentionShape, maxSeq = Infinity): void {
  for (const [k, v] of Object.entries({ batch: s.batch, heads: s.heads, seq: s.seq, headDim: s.headDim })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`attention: ${k} must be a positive integer, got ${v}`);
  }
  if (s.headDim > MAX_HEAD_DIM) throw new RangeError(`attention: headDim ${s.headDim} > ${MAX_HEAD_DIM}`);
  if (s.seq > maxSeq) throw new RangeError(`attention: seq ${s.seq} > ${maxSeq} for the materialized backward`);
}

function sameLayout(x: HeadTriple, grads: HeadTriple): void {
  const a = x.strides, b = grads.strides;
  if (a.batch !== b.batch || a.head !== b.head || a.row !== b.row) throw new RangeError('attention backward: dQ, dK, dV must have the layout of Q, K, V');
}

const shapeArgs = (s: AttentionShape) => [s.batch, s.heads, s.seq, s.headDim];
const stridesArgs = (t: { strides: Strides }) => [t.strides.batch, t.strides.head, t.strides.row];

/** Materialized forward: writes probs (P) and out.o. */
export function attentionForward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, out: HeadOutput, probs: number): void {
  check(s);
  rt.run('attentionForward', [...shapeArgs(s), Math.fround(s.scale), x.q, x.k, x.v, ...stridesArgs(x), out.o, ...stridesArgs(out), probs]);
}

/**
 * Materialized backward: dV = Pᵀ·dO, then dS = scale·P∘(dP − rowsum(P∘dP)) with dP = dO·Vᵀ (written to
 * `ds`, which may be `probs`: P is no longer needed then) and dQ = dS·K, then dK = dSᵀ·Q.
 */
export function attentionBackward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, dOut: HeadOutput, probs: number,
  ds: number, grads: HeadTriple): void {
  check(s, MAX_MATERIALIZED_SEQ);
  sameLayout(x, grads);
  const shape = shapeArgs(s);
  rt.run('attentionBackwardColumns', [...shape, probs, dOut.o, ...stridesArgs(dOut), grads.v, ...stridesArgs(grads)]);
  rt.run('attentionBackwardRows', [...shape, Math.fround(s.scale), x.q, x.k, x.v, ...stridesArgs(x), dOut.o, ...stridesArgs(dOut),
    probs, ds, grads.q]);
  rt.run('attentionBackwardColumns', [...shape, ds, x.q, ...stridesArgs(x), grads.k, ...stridesArgs(x)]);
}

/** Flash forward: writes out.o and lse ([batch, heads, seq] floats). */
export function flashAttentionForward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, out: HeadOutput, lse: number): void {
  check(s);
  rt.run('flashAttentionForward', [...shapeArgs(s), Math.fround(s.scale), x.q, x.k, x.v, ...stridesArgs(x), out.o, ...stridesArgs(out), lse]);
}

/** Flash backward from O, dO and lse (O and dO share `out.strides`); one task per (batch, head). */
export function flashAttentionBackward(rt: KernelRuntime, s: AttentionShape, x: HeadTriple, out: HeadOutput, dO: number,
  lse: number, grads: HeadTriple): void {
  check(s);
  sameLayout(x, grads);
  rt.run('flashAttentionBackward', [...shapeArgs(s), Math.fround(s.scale), x.q, x.k, x.v, ...stridesArgs(x), out.o, dO,
    ...stridesArgs(out), lse, grads.q, grads.k, grads.v]);
}
