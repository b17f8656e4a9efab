import { paddedVocabSize, type NeoXConfig } from './config.js';
import { embeddingOps } from './embedding-ops.js';
import { headOps } from './head-ops.js';
import { layerOps } from './layer-ops.js';
import { isCompute, type Op, type OpOptions } from './ops.js';
import { countParams, neoxPrintedParams } from './params.js';

/**
 * FLOP conventions side by side. Each counts only matmul FLOPs, split into Megatron's three terms:
 * `dense` (the four weight GEMMs of every layer), `attention` (QKᵀ and P·V), `logits` (output projection).
 */
export interface FlopTerms {
  dense: number;
  attention: number;
  logits: number;
  total: number;
}

const terms = (dense: number, attention: number, logits: number): FlopTerms => ({ dense, attention, logits, total: dense + attention + logits });

export interface BatchShape {
  /** Sequences (a micro-batch, or a global batch for a whole step). */
  batch: number;
  seqLength?: number;
}

/**
 * Narayanan et al. (SC '21, arXiv 2104.04473 appendix; Megatron-LM `num_floating_point_operations`):
 * with full recompute 96·B·s·l·h²·(1 + s/6h + V/16lh); without, 72·B·s·l·h²·(1 + s/6h + V/12lh)
 * (the logit GEMMs are never recomputed: 6·B·s·h·V either way). V = padded vocabulary.
 */
export function megatronFlops(cfg: NeoXConfig, shape: BatchShape, recompute: boolean, paddingTp = 1): FlopTerms {
  const B = shape.batch;
  const s = shape.seqLength ?? cfg.seqLength;
  const l = cfg.numLayers;
  const h = cfg.hiddenSize;
  const V = paddedVocabSize(cfg, paddingTp);
  const passes = recompute ? 4 : 3;
  return terms(24 * passes * B * s * l * h * h, 4 * passes * B * s * s * l * h, 6 * B * s * h * V);
}

/**
 * gpt-neox's 2022 logger (megatron/logging.py `get_flops` at the 20B release), per token:
 * 6·P + 60·s·h·L, with P the parameter count gpt-neox prints (TP-replicated tensors counted per rank).
 * NeoX-20B at TP = 2: 156,556,099,584 FLOP per token.
 */
export function neoxLogger2022FlopsPerToken(cfg: NeoXConfig, tp: number, pp = 1, seqLength = cfg.seqLength): number {
  return 6 * neoxPrintedParams(cfg, tp, pp) + 60 * seqLength * cfg.hiddenSize * cfg.numLayers;
}

/** The 6·N rule (Kaplan et al.; "Transformer Math 101"): 6 FLOPs per unique parameter per token. */
export function sixNFlopsPerToken(cfg: NeoXConfig, paddingTp = 1): number {
  return 6 * countParams(cfg, paddingTp).total;
}

/** Sums matmul FLOPs of an op list by Megatron term (per rank). */
export function matmulTerms(ops: Op[]): FlopTerms {
  let dense = 0;
  let attention = 0;
  let logits = 0;
  for (const op of ops) {
    if (!isCompute(op) || !op.term) continue;
    if (op.term === 'dense') dense += op.flops;
    else if (op.term === 'attention') attention += op.flops;
    else logits += op.flops;
  }
  return terms(dense, attention, logits);
}

/**
 * Whole-model matmul FLOPs of one micro-batch counted from the op lists: every layer, the embedding and
 * the head, summed over the TP ranks. Equals `megatronFlops` term by term.
 */
export function opListFlops(cfg: NeoXConfig, opts: OpOptions): FlopTerms {
  const layer = matmulTerms(layerOps(cfg, opts));
  const ends = matmulTerms([...embeddingOps(cfg, opts), ...headOps(cfg, opts)]);
  const t = opts.tp;
  return terms(t * (cfg.numLayers * layer.dense + ends.dense), t * (cfg.numLayers * layer.attention + ends.attention), t * (cfg.numLayers * layer.logits + ends.logits));
}

/** All FLOPs of an op list (matmuls plus the per-element counts of the memory-bound kinds). */
export function totalFlops(ops: Op[]): number {
  return ops.reduce((a, op) => a + (isCompute(op) ? op.flops : 0), 0);
}
