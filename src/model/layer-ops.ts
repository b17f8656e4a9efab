import { flashAttention, kvHeads, type NeoXConfig } from './config.js';
import { OpBuilder } from './op-builder.js';
import { FLOPS_PER_ELEMENT as F, opDims, type Op, type OpOptions } from './ops.js';

/**
 * The op list of one transformer layer on one TP rank, mirroring the kernels gpt-neox launched for the
 * 20B run (megatron/model/transformer.py, 2022; no FlashAttention): column-parallel QKV GEMM and its bias,
 * unfused rotary on q and k, QKᵀ baddbmm, Megatron's fused scaled upper-triangular masked softmax, P·V bmm,
 * the context permute, the row-parallel dense GEMM, bias/residual adds, two untied LayerNorms, h→4h GEMM,
 * fused bias-GELU (tanh; unfused bias add + erf GELU when the model uses exact GELU), 4h→h GEMM.
 *
 * Grouped-query attention (`numKvHeads` < heads): the QKV GEMM is (heads + 2·kvHeads)·headDim wide and each
 * TP rank holds kvHeads / TP key/value heads. The materialized kernels expand K and V to every query head
 * first (Megatron-core DotProductAttention: `repeat_interleave` over the group), so the bmms and what they
 * save are as without GQA; their backward sums the expanded gradients back per group.
 *
 * FlashAttention (`attentionKernel: 'flash'`): the core is one fused forward kernel and one fused backward
 * (FlashAttention-2, Dao 2023, arXiv 2307.08691; see `flashForward`), with K and V read at their own width.
 *
 * TP sync points: with the parallel residual one forward all-reduce per layer (attention and MLP outputs
 * are summed first), otherwise one after each row-parallel GEMM; always two backward all-reduces, for the
 * input gradients of the two column-parallel branches (Megatron's copy_to_model_parallel_region).
 *
 * Sequence parallelism (Korthikanti et al. 2022 §4.2.2, Megatron `--sequence-parallel`): the LayerNorms and
 * the ops after the row-parallel GEMMs (bias, dropout, residual) run on s/tp tokens; each forward all-reduce
 * becomes a reduce-scatter, and an all-gather of the sharded LayerNorm output enters each column-parallel
 * GEMM (conjugates in the backward). The GEMMs keep only the sharded LayerNorm output and all-gather it
 * again in the backward for their weight gradient (Megatron's LinearWithGradAccumulationAndAsyncCommunication).
 * With the parallel residual (gpt-neox `gpt_j_residual`) each column-parallel branch gathers its own LayerNorm
 * output (2 all-gathers), the biases and dropouts stay on the summed partial outputs before the single
 * reduce-scatter, and only the residual add runs on s/tp tokens.
 */

/** Tensors only the attention core (QKᵀ, softmax, dropout) produces: what selective recompute re-creates. */
export const ATTENTION_CORE_TENSORS = new Set(['attention.probs', 'attention.dropout.mask', 'attention.dropout.out']);

/** The checkpointed tensor under full recompute: the layer's input. */
export const LAYER_INPUT = 'input';

export function layerOps(cfg: NeoXConfig, opts: OpOptions): Op[] {
  const d = opDims(cfg, opts);
  const flash = flashAttention(cfg);
  const keepAfterForward = {
    none: () => true,
    full: (t: string) => t === LAYER_INPUT,
    selective: (t: string) => !ATTENTION_CORE_TENSORS.has(t),
  }[opts.recompute];
  const forward = new OpBuilder(d, 'forward', keepAfterForward);
  layerForward(forward, cfg);
  const ops: Op[] = [...forward.ops];
  if (opts.recompute === 'full') {
    const again = new OpBuilder(d, 'recompute', (t) => t !== LAYER_INPUT);
    layerForward(again, cfg);
    ops.push(...again.ops);
  } else if (opts.recompute === 'selective' && !flash) {
    // With FlashAttention nothing of size s² is kept, so selective recompute has nothing to re-create.
    const again = new OpBuilder(d, 'recompute');
    attentionCore(again);
    ops.push(...again.ops);
  }
  const backward = new OpBuilder(d, 'backward');
  layerBackward(backward, cfg);
  return [...ops, ...backward.ops];
}

function layerForward(f: OpBuilder, cfg: NeoXConfig): void {
  // Ts: tokens of the sequence-parallel regions (T / tp with sequence parallelism, else T).
  const { tokens: T, spTokens: Ts, h, hiddenDropout } = f.d;
  f.layernorm('input_layernorm', Ts, h, LAYER_INPUT);
  if (cfg.parallelResidual) {
    // x1 = ln1(x), x2 = ln2(x): both read the layer input, kept once.
    f.layernorm('post_attention_layernorm', Ts, h, LAYER_INPUT);
    f.spGather('attention.input.all-gather', T * h);
    attentionForward(f, cfg);
    f.biasAdd('attention.dense.bias', T, h);
    if (hiddenDropout > 0) f.dropout('attention.hidden-dropout', T * h);
    f.spGather('mlp.input.all-gather', T * h);
    mlpForward(f, cfg);
    f.biasAdd('mlp.dense_4h_to_h.bias', T, h);
    if (hiddenDropout > 0) f.dropout('mlp.hidden-dropout', T * h);
    f.add('mlp.plus-attention', T * h);
    f.tpReduce('layer', T * h);
    f.add('layer.residual', Ts * h);
  } else {
    f.spGather('attention.input.all-gather', T * h);
    attentionForward(f, cfg);
    f.tpReduce('attention.dense', T * h);
    f.biasAdd('attention.dense.bias', Ts, h);
    if (hiddenDropout > 0) f.dropout('attention.hidden-dropout', Ts * h);
    f.add('attention.residual', Ts * h);
    f.layernorm('post_attention_layernorm', Ts, h, 'attention.residual');
    f.spGather('mlp.input.all-gather', T * h);
    mlpForward(f, cfg);
    f.tpReduce('mlp.dense_4h_to_h', T * h);
    f.biasAdd('mlp.dense_4h_to_h.bias', Ts, h);
    if (hiddenDropout > 0) f.dropout('mlp.hidden-dropout', Ts * h);
    f.add('mlp.residual', Ts * h);
  }
}

/** Key/value width on one TP rank: kvHeads / TP heads of headDim (= h / TP without grouped-query attention). */
function kvWidth(f: OpBuilder, cfg: NeoXConfig): number {
  return (kvHeads(cfg) / f.d.tp) * f.d.headDim;
}

function attentionForward(f: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, h, hp, s, headDim, e } = f.d;
  const kvp = kvWidth(f, cfg);
  f.gemm('attention.query_key_value', T, hp + 2 * kvp, h, 'dense', [f.saved('input_layernorm.out', f.d.spTokens * h)]);
  f.biasAdd('attention.query_key_value.bias', T, hp + 2 * kvp);
  rotaryForward(f, kvp);
  if (flashAttention(cfg)) {
    flashForward(f, kvp);
  } else {
    if (kvp < hp) {
      // Megatron-core expands K and V to one head per query head before the bmms (repeat_interleave).
      f.memory('attention.kv-expand', 'elementwise', 2 * T * hp, { flops: 0, read: 2 * T * kvp * e, write: 2 * T * hp * e, kernels: 2 });
    }
    attentionCore(f);
    const probs = f.d.attentionDropout > 0 ? 'attention.dropout.out' : 'attention.probs';
    f.bmm('attention.context', s, headDim, s, [f.saved(probs, f.d.scores), f.saved('attention.v', T * hp)]);
  }
  // [b, np, s, hn] → [s, b, np·hn] for the dense GEMM.
  f.copy('attention.context-permute', T * hp);
  f.gemm('attention.dense', T, h, hp, 'dense', [f.saved('attention.context', T * hp)]);
}

/** QKᵀ (scaled by 1/√head_dim inside baddbmm), the fused masked softmax, and attention dropout if any. */
function attentionCore(f: OpBuilder): void {
  const { tokens: T, hp, s, headDim, scores: S, e } = f.d;
  f.bmm('attention.scores', s, s, headDim, [f.saved('attention.q', T * hp), f.saved('attention.k', T * hp)]);
  f.memory('attention.softmax', 'softmax', S, {
    flops: F.softmaxForward * S, read: e * S, write: e * S, saves: [f.saved('attention.probs', S)],
  });
  if (f.d.attentionDropout > 0) {
    f.memory('attention.dropout', 'elementwise', S, {
      flops: 2 * S, read: e * S, write: (e + 1) * S,
      saves: [{ name: 'attention.dropout.mask', bytes: S }, f.saved('attention.dropout.out', S)],
    });
  }
}

/**
 * FlashAttention-2's fused forward (Dao 2023, arXiv 2307.08691, Algorithm 1): reads Q, K and V (K and V at
 * their grouped width: the kernel indexes kv head ⌊i / group⌋ for query head i), writes O and the fp32
 * logsumexp per query row, and keeps exactly those plus its inputs for the backward: no s×s tensor reaches
 * HBM, and attention dropout is regenerated from the RNG state instead of a saved mask.
 * FLOPs: the two matmuls, 4·b·s²·headDim per query head, halved because GPT attention is causal and FA2
 * skips the fully masked blocks: the convention of Dao-AILab/flash-attention
 * benchmarks/benchmark_flash_attention.py, `f = 4 * batch * seqlen**2 * nheads * headdim // (2 if causal
 * else 1)`, which is also what the GPU profile's flash efficiency is measured against.
 */
function flashForward(f: OpBuilder, kvp: number): void {
  const { tokens: T, hp, s, b, heads, headDim, e } = f.d;
  const flops = flashForwardFlops(b, s, heads, headDim);
  f.memory('attention.flash', 'flash-attention', b * heads * s * s, {
    flops, read: e * (T * hp + 2 * T * kvp), write: e * T * hp + 4 * b * heads * s,
    saves: [
      f.saved('attention.q', T * hp), f.saved('attention.k', T * kvp), f.saved('attention.v', T * kvp),
      f.saved('attention.context', T * hp), f.saved('attention.logsumexp', b * heads * s, 'fp32'),
    ],
  });
}

/** FLOPs of one causal FlashAttention-2 forward on one TP rank (see `flashForward`). */
export function flashForwardFlops(b: number, s: number, heads: number, headDim: number): number {
  return (4 * b * s * s * headDim * heads) / 2;
}

/**
 * FlashAttention-2's fused backward: 5 matmuls against the forward's 2 (it recomputes S = QKᵀ and P from the
 * saved logsumexp, then dV, dP, dS→dQ, dK), so 2.5 × the forward FLOPs (FA2 paper §4.1; the same
 * benchmark_flash_attention.py: `2.5 * f` for "bwd"). Traffic: Q, K, V, O, dO and the logsumexp in; dQ, dK,
 * dV out, plus the fp32 dQ accumulator (written and read back) and the rowsum(dO∘O) vector: three kernels
 * (dot_do_o, the main loop, the dQ conversion; flash-attention csrc run_flash_bwd) [D]. With grouped-query
 * attention FA2 writes dK and dV per query head and sums them per group (mha_bwd's dk_expanded).
 */
function flashBackward(bk: OpBuilder, kvp: number): void {
  const { tokens: T, hp, s, b, heads, headDim, e } = bk.d;
  const fwd = flashForwardFlops(b, s, heads, headDim);
  const rows = b * heads * s;
  const kvOut = kvp < hp ? hp : kvp;
  bk.memory('attention.flash.backward', 'flash-attention-backward', b * heads * s * s, {
    flops: 2.5 * fwd, kernels: 3,
    read: e * (3 * T * hp + 2 * T * kvp) + 4 * rows + 4 * T * hp + 4 * rows,
    write: e * (T * hp + 2 * T * kvOut) + 4 * T * hp + 4 * rows,
  });
  if (kvp < hp) {
    bk.memory('attention.flash.kv-grad-sum', 'reduction', 2 * T * hp, { flops: 2 * T * hp, read: 2 * T * hp * e, write: 2 * T * kvp * e, kernels: 2 });
  }
}

/**
 * gpt-neox 2022 rotary, unfused, on the first `rotary` dims of every head of q and of k:
 * x·cos, neg(x[r/2:]), cat(-x2, x1), ·sin, add (5 kernels per tensor, E elements each; cos/sin are
 * [s, r] fp16 caches), then torch.cat with the pass-through dims when rotary < head_dim.
 */
function rotaryForward(f: OpBuilder, kvp: number): void {
  const { tokens: T, hp, rotary: r, headDim, s, e } = f.d;
  if (r === 0) return;
  // q has hp / headDim heads on this rank, k has kvp / headDim (the same without grouped-query attention).
  const E = (T * (hp + kvp) * r) / headDim;
  f.memory('attention.rotary', 'elementwise', E, {
    flops: 3.5 * E, read: (5.5 * E + 4 * s * r) * e, write: 4.5 * E * e, kernels: 10,
  });
  if (r < headDim) f.copy('attention.rotary-concat', T * (hp + kvp), 2);
}

function mlpForward(f: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, h, ffn, e } = f.d;
  f.gemm('mlp.dense_h_to_4h', T, ffn, h, 'dense', [f.saved('post_attention_layernorm.out', f.d.spTokens * h)]);
  const geluIn = [f.saved('mlp.gelu-input', T * ffn)];
  if (cfg.activation === 'gelu-tanh') {
    // bias_gelu_fusion: one jit kernel adds the bias and applies the tanh GELU; keeps its input and the bias.
    f.memory('mlp.bias-gelu', 'elementwise', T * ffn, {
      flops: (F.geluForward + 1) * T * ffn, read: e * (T * ffn + ffn), write: e * T * ffn, saves: geluIn,
    });
  } else {
    f.biasAdd('mlp.dense_h_to_4h.bias', T, ffn);
    f.memory('mlp.gelu', 'elementwise', T * ffn, { flops: F.geluForward * T * ffn, read: e * T * ffn, write: e * T * ffn, saves: geluIn });
  }
  f.gemm('mlp.dense_4h_to_h', T, h, ffn, 'dense', [f.saved('mlp.gelu-output', T * ffn)]);
}

function layerBackward(bk: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, spTokens: Ts, h, hiddenDropout } = bk.d;
  // Tokens of the bias/dropout after the row-parallel GEMMs: s/tp with sequence parallelism, except with the
  // parallel residual, where they act on the partial outputs before the reduce-scatter.
  const rowT = cfg.parallelResidual ? T : Ts;
  // The residual adds and the forward all-reduce pass the output gradient through unchanged; a forward
  // reduce-scatter's backward is an all-gather.
  if (cfg.parallelResidual) bk.spGather('layer.output-grad.all-gather', T * h);
  if (hiddenDropout > 0) bk.dropoutBackward('mlp.hidden-dropout', rowT * h);
  mlpBackward(bk, cfg, rowT);
  bk.layernormBackward('post_attention_layernorm', Ts, h);
  bk.accumulate('post_attention_layernorm', 2 * h, 2);
  if (!cfg.parallelResidual) bk.add('attention.residual.grad-sum', Ts * h, 2);
  if (hiddenDropout > 0) bk.dropoutBackward('attention.hidden-dropout', rowT * h);
  attentionBackward(bk, cfg, rowT);
  bk.layernormBackward('input_layernorm', Ts, h);
  bk.accumulate('input_layernorm', 2 * h, 2);
  // Gradients reaching the layer input: residual + ln1 (+ ln2 with the parallel residual).
  bk.add('layer.input-grad-sum', Ts * h, cfg.parallelResidual ? 3 : 2);
}

function mlpBackward(bk: OpBuilder, cfg: NeoXConfig, rowT: number): void {
  const { tokens: T, h, ffn, e } = bk.d;
  bk.biasGrad('mlp.dense_4h_to_h', rowT, h);
  if (!cfg.parallelResidual) bk.spGather('mlp.output-grad.all-gather', T * h);
  bk.gemm('mlp.dense_4h_to_h.dgrad', T, ffn, h, 'dense');
  bk.gemm('mlp.dense_4h_to_h.wgrad', h, ffn, T, 'dense');
  bk.accumulate('mlp.dense_4h_to_h', h * ffn + h, 2);
  const geluBack = cfg.activation === 'gelu-tanh' ? 'mlp.bias-gelu.backward' : 'mlp.gelu.backward';
  bk.memory(geluBack, 'elementwise', T * ffn, {
    flops: F.geluBackward * T * ffn, read: e * (2 * T * ffn + ffn), write: e * T * ffn,
  });
  bk.biasGrad('mlp.dense_h_to_4h', T, ffn);
  // Sequence parallelism: the GEMM kept its input's s/tp shard; the weight gradient needs it whole again.
  bk.spGather('mlp.input.re-gather', T * h);
  bk.gemm('mlp.dense_h_to_4h.dgrad', T, h, ffn, 'dense');
  bk.gemm('mlp.dense_h_to_4h.wgrad', ffn, h, T, 'dense');
  bk.accumulate('mlp.dense_h_to_4h', ffn * h + ffn, 2);
  bk.tpReduce('mlp.input-grad', T * h);
}

/** `rowT`: tokens of the dense bias gradient (s·b/tp with sequence parallelism and a sequential residual). */
function attentionBackward(bk: OpBuilder, cfg: NeoXConfig, rowT: number): void {
  const { tokens: T, h, hp, s, headDim, scores: S, e, rotary: r } = bk.d;
  const kvp = kvWidth(bk, cfg);
  const qkv = hp + 2 * kvp;
  bk.biasGrad('attention.dense', rowT, h);
  if (!cfg.parallelResidual) bk.spGather('attention.output-grad.all-gather', T * h);
  bk.gemm('attention.dense.dgrad', T, hp, h, 'dense');
  bk.gemm('attention.dense.wgrad', h, hp, T, 'dense');
  bk.accumulate('attention.dense', h * hp + h, 2);
  bk.copy('attention.context-permute.backward', T * hp);
  if (flashAttention(cfg)) {
    flashBackward(bk, kvp);
  } else {
    bk.bmm('attention.context.grad-probs', s, s, headDim);
    bk.bmm('attention.context.grad-values', s, headDim, s);
    if (bk.d.attentionDropout > 0) bk.dropoutBackward('attention.dropout', S);
    bk.memory('attention.softmax.backward', 'softmax', S, { flops: F.softmaxBackward * S, read: 2 * e * S, write: e * S });
    bk.bmm('attention.scores.grad-query', s, headDim, s);
    bk.bmm('attention.scores.grad-key', s, headDim, s);
    if (kvp < hp) {
      // repeat_interleave's backward: the expanded K and V gradients summed over each group.
      bk.memory('attention.kv-expand.backward', 'reduction', 2 * T * hp, { flops: 2 * T * hp, read: 2 * T * hp * e, write: 2 * T * kvp * e, kernels: 2 });
    }
  }
  if (r > 0) {
    // Mirror of the forward chain (·sin, ·cos, neg and the slice copies autograd makes), per q and k.
    const E = (T * (hp + kvp) * r) / headDim;
    bk.memory('attention.rotary.backward', 'elementwise', E, {
      flops: 3.5 * E, read: 5.5 * E * e, write: 4.5 * E * e, kernels: 10,
    });
    if (r < headDim) bk.copy('attention.rotary-concat.backward', T * (hp + kvp), 2);
  }
  // q, k, v are slices of the fused QKV output: their gradients are concatenated back (SplitBackward).
  bk.copy('attention.qkv-split.backward', T * qkv);
  bk.biasGrad('attention.query_key_value', T, qkv);
  bk.spGather('attention.input.re-gather', T * h);
  bk.gemm('attention.query_key_value.dgrad', T, h, qkv, 'dense');
  bk.gemm('attention.query_key_value.wgrad', qkv, h, T, 'dense');
  bk.accumulate('attention.query_key_value', qkv * h + qkv, 2);
  bk.tpReduce('attention.input-grad', T * h);
}
