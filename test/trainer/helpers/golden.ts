import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NeoXConfig } from '../../../src/model/config.js';
import { repoRoot } from '../../helpers/cli.js';

/** A golden case written by tools/reference/neox_reference.py (PyTorch float64). */
export interface GoldenCase {
  name: string;
  model: NeoXConfig;
  seed: number;
  initSha256: string;
  forward: {
    batch: number; loss: number; tokens: Int32Array; logits: Float64Array; grads: Map<string, Float64Array>;
    /**
     * The fp16 mixed-precision forward from the parameters after training (`train.params`, rounded to
     * binary16), emulated in PyTorch float32 with binary16 rounding at the spec's cast points.
     */
    fp16: { loss: number; logits: Float32Array };
  };
  train: {
    steps: number; microBatchSize: number; gradientAccumulationSteps: number; clipGrad: number;
    optimizer: { beta1: number; beta2: number; eps: number; weightDecay: number };
    schedule: { lr: number; minLr: number; warmupIters: number; decayIters: number; style: 'cosine' | 'constant' };
    tokens: Int32Array; losses: number[]; gradNorms: number[]; lrs: number[]; clipped: boolean[];
    params: Map<string, Float64Array>;
  };
}

interface Entry { offset: number; dtype: 'f64' | 'f32' | 'i32'; shape: number[] }

export const goldenDir = join(repoRoot, 'test/golden');

export function goldenNames(): string[] {
  return readdirSync(goldenDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function loadGolden(name: string): GoldenCase {
  const m = JSON.parse(readFileSync(join(goldenDir, `${name}.json`), 'utf8'));
  const bytes = readFileSync(join(goldenDir, m.data));
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const size = (e: Entry) => e.shape.reduce((a, b) => a * b, 1);
  const f64 = (e: Entry) => new Float64Array(buf, e.offset, size(e));
  const f32 = (e: Entry) => new Float32Array(buf, e.offset, size(e));
  const i32 = (e: Entry) => new Int32Array(buf, e.offset, size(e));
  const tensors = (o: Record<string, Entry>) => new Map(Object.entries(o).map(([k, e]) => [k, f64(e)]));
  return {
    name: m.name,
    model: m.model,
    seed: m.seed,
    initSha256: m.initSha256,
    forward: {
      ...m.forward, tokens: i32(m.forward.tokens), logits: f64(m.forward.logits), grads: tensors(m.forward.grads),
      fp16: { loss: m.forward.fp16.loss, logits: f32(m.forward.fp16.logits) },
    },
    train: { ...m.train, tokens: i32(m.train.tokens), params: tensors(m.train.params) },
  };
}

/** max|a − ref| / max|ref| over one tensor (max|a − ref| when ref is all zero). */
export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Indices of query_key_value.bias whose true gradient is exactly zero: the key bias outside the rotary
 * dims adds q_i·b to every score of row i alike, and softmax ignores a shift shared by a row. Its computed
 * gradient is rounding noise, which Adam divides by √v + eps, so after optimizer steps these entries
 * compare noise with noise and are checked apart (docs/numerics.md, "Comparing with the reference").
 */
export function keyBiasNullSpace(numHeads: number, headDim: number, rotDims: number): Set<number> {
  const out = new Set<number>();
  for (let h = 0; h < numHeads; h++) for (let j = rotDims; j < headDim; j++) out.add(h * 3 * headDim + headDim + j);
  return out;
}

/** Splits relErr into (entries outside `skip`, max |a − ref| over entries in `skip`). */
export function relErrExcept(a: ArrayLike<number>, ref: ArrayLike<number>, skip: Set<number>): { rel: number; skippedAbs: number } {
  let diff = 0;
  let scale = 0;
  let skippedAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    scale = Math.max(scale, Math.abs(ref[i]!));
    if (skip.has(i)) skippedAbs = Math.max(skippedAbs, d);
    else diff = Math.max(diff, d);
  }
  return { rel: scale === 0 ? diff : diff / scale, skippedAbs };
}

/** The first `batch` sequences of [rows, seq + 1] tokens split into inputs and labels. */
export function inputsAndLabels(tokens: Int32Array, batch: number, seq: number, ids: Int32Array, labels: Int32Array): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = tokens[b * (seq + 1) + t]!;
      labels[b * seq + t] = tokens[b * (seq + 1) + t + 1]!;
    }
  }
}

/**
 * An fp16 golden case written by tools/reference/neox_fp16_reference.py: the trainer's fp16 mixed-precision
 * mode emulated in PyTorch float64 with binary16 rounding at the cast points of docs/numerics.md §7.
 * Tensors are float32 (binary16 logits; float32 unscaled master gradients and master weights).
 */
export interface GoldenFp16Case {
  name: string;
  model: NeoXConfig;
  seed: number;
  initSha256: string;
  forward: {
    batch: number; lossScale: number; loss: number; tokens: Int32Array; logits: Float32Array; grads: Map<string, Float32Array>;
  };
  train: {
    steps: number; microBatchSize: number; gradientAccumulationSteps: number; clipGrad: number;
    optimizer: { beta1: number; beta2: number; eps: number; weightDecay: number };
    schedule: { lr: number; minLr: number; warmupIters: number; decayIters: number; style: 'cosine' | 'constant' };
    tokens: Int32Array; losses: number[]; gradNorms: number[]; lrs: number[]; clipped: boolean[]; lossScales: number[];
    master: Map<string, Float32Array>;
  };
}

export const goldenFp16Dir = join(goldenDir, 'fp16');

export function loadGoldenFp16(name: string, dir = goldenFp16Dir): GoldenFp16Case {
  const m = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const bytes = readFileSync(join(dir, m.data));
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const size = (e: Entry) => e.shape.reduce((a, b) => a * b, 1);
  const f32 = (e: Entry) => new Float32Array(buf, e.offset, size(e));
  const i32 = (e: Entry) => new Int32Array(buf, e.offset, size(e));
  const tensors = (o: Record<string, Entry>) => new Map(Object.entries(o).map(([k, e]) => [k, f32(e)]));
  return {
    name: m.name,
    model: m.model,
    seed: m.seed,
    initSha256: m.initSha256,
    forward: { ...m.forward, tokens: i32(m.forward.tokens), logits: f32(m.forward.logits), grads: tensors(m.forward.grads) },
    train: { ...m.train, tokens: i32(m.train.tokens), master: tensors(m.train.master) },
  };
}

/** rms(a − ref) / rms(ref) over one tensor (rms(a − ref) when ref is all zero). */
export function rmsRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff += (a[i]! - ref[i]!) ** 2;
    scale += ref[i]! ** 2;
  }
  return scale === 0 ? Math.sqrt(diff / ref.length) : Math.sqrt(diff / scale);
}
