import { flashAttention, type NeoXConfig } from './config.js';
import { layerOps } from './layer-ops.js';
import { isCompute, type Op, type OpOptions, type Phase } from './ops.js';

/**
 * Activation memory of one layer for one micro-batch on one TP rank, read off the op list: the distinct
 * tensors the ops of a phase keep for the backward pass. LayerNorm's fp32 row statistics (8 bytes a token
 * each) are not counted, as in Korthikanti et al.
 */
export function savedBytes(ops: Op[], phase: Phase): number {
  const seen = new Map<string, number>();
  for (const op of ops) {
    if (!isCompute(op) || op.phase !== phase) continue;
    for (const t of op.saves) seen.set(t.name, t.bytes);
  }
  let total = 0;
  for (const bytes of seen.values()) total += bytes;
  return total;
}

export interface LayerActivations {
  /** Held from the layer's forward until its backward (per in-flight micro-batch). */
  stored: number;
  /** Re-created by the recompute right before the backward and freed during it (0 without recompute). */
  recomputeWorkingSet: number;
}

export function layerActivationBytes(cfg: NeoXConfig, opts: OpOptions): LayerActivations {
  const ops = layerOps(cfg, opts);
  return { stored: savedBytes(ops, 'forward'), recomputeWorkingSet: savedBytes(ops, 'recompute') };
}

/**
 * Korthikanti et al. 2022 (arXiv 2205.05198, §4, Table 2; no sequence parallelism), bytes per layer with
 * 16-bit activations and dropout: none s·b·h·(10 + 24/t + 5·a·s/(h·t)); selective s·b·h·(10 + 24/t);
 * full recompute 2·s·b·h (the checkpointed layer input). Assumes a sequential residual, ffn = 4h and
 * multi-head attention. With FlashAttention the 5·a·s/(h·t) term (softmax output, dropout mask and output)
 * is gone, so 'none' equals 'selective' (the fp32 logsumexp, 4·a·s·b/t bytes, is below the formula's
 * resolution and left out, as the LayerNorm statistics are).
 */
export function korthikantiActivationBytes(cfg: NeoXConfig, opts: OpOptions): number {
  const s = opts.seqLength ?? cfg.seqLength;
  const b = opts.microBatch;
  const sbh = s * b * cfg.hiddenSize;
  const t = opts.tp;
  // sbh·5as/(ht) written as 5·a·s²·b/t so that whole numbers stay whole.
  switch (opts.recompute) {
    case 'full': return 2 * sbh;
    case 'selective': return 10 * sbh + (24 * sbh) / t;
    case 'none': return 10 * sbh + (24 * sbh) / t + (flashAttention(cfg) ? 0 : (5 * cfg.numHeads * s * s * b) / t);
  }
}
