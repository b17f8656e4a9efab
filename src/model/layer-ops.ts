import type { NeoXConfig } from './config.js';
import { OpBuilder } from './op-builder.js';
import { FLOPS_PER_ELEMENT as F, opDims, type Op, type OpOptions } from './ops.js';

/**
 * The op list of one transformer layer on one TP rank, mirroring the kernels gpt-neox launched for the
 * 20B run (megatron/model/transformer.py, 2022; no FlashAttention): column-parallel QKV GEMM and its bias,
 * unfused rotary on q and k, QKᵀ baddbmm, Megatron's fused scaled upper-triangular masked softmax, P·V bmm,
 * the context permute, the row-parallel dense GEMM, bias/residual adds, two untied LayerNorms, h→4h GEMM,
 * fused bias-GELU (tanh; unfused bias add + erf GELU when the model uses exact GELU), 4h→h GEMM.
 *
 * TP sync points: with the parallel residual one forward all-reduce per layer (attention and MLP outputs
 * are summed first), otherwise one after each row-parallel GEMM; always two backward all-reduces, for the
 * input gradients of the two column-parallel branches (Megatron's copy_to_model_parallel_region).
 */

/** Tensors only the attention core (QKᵀ, softmax, dropout) produces: what selective recompute re-creates. */
export const ATTENTION_CORE_TENSORS = new Set(['attention.probs', 'attention.dropout.mask', 'attention.dropout.out']);

/** The checkpointed tensor under full recompute: the layer's input. */
export const LAYER_INPUT = 'input';

export function layerOps(cfg: NeoXConfig, opts: OpOptions): Op[] {
  const d = opDims(cfg, opts);
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
  } else if (opts.recompute === 'selective') {
    const again = new OpBuilder(d, 'recompute');
    attentionCore(again);
    ops.push(...again.ops);
  }
  const backward = new OpBuilder(d, 'backward');
  layerBackward(backward, cfg);
  return [...ops, ...backward.ops];
}

function layerForward(f: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, h, hiddenDropout } = f.d;
  f.layernorm('input_layernorm', T, h, LAYER_INPUT);
  if (cfg.parallelResidual) {
    // x1 = ln1(x), x2 = ln2(x): both read the layer input, kept once.
    f.layernorm('post_attention_layernorm', T, h, LAYER_INPUT);
    attentionForward(f);
    f.biasAdd('attention.dense.bias', T, h);
    if (hiddenDropout > 0) f.dropout('attention.hidden-dropout', T * h);
    mlpForward(f, cfg);
    f.biasAdd('mlp.dense_4h_to_h.bias', T, h);
    if (hiddenDropout > 0) f.dropout('mlp.hidden-dropout', T * h);
    f.add('mlp.plus-attention', T * h);
    f.allReduce('layer.all-reduce', T * h);
    f.add('layer.residual', T * h);
  } else {
    attentionForward(f);
    f.allReduce('attention.dense.all-reduce', T * h);
    f.biasAdd('attention.dense.bias', T, h);
    if (hiddenDropout > 0) f.dropout('attention.hidden-dropout', T * h);
    f.add('attention.residual', T * h);
    f.layernorm('post_attention_layernorm', T, h, 'attention.residual');
    mlpForward(f, cfg);
    f.allReduce('mlp.dense_4h_to_h.all-reduce', T * h);
    f.biasAdd('mlp.dense_4h_to_h.bias', T, h);
    if (hiddenDropout > 0) f.dropout('mlp.hidden-dropout', T * h);
    f.add('mlp.residual', T * h);
  }
}

function attentionForward(f: OpBuilder): void {
  const { tokens: T, h, hp, s, headDim } = f.d;
  f.gemm('attention.query_key_value', T, 3 * hp, h, 'dense', [f.saved('input_layernorm.out', T * h)]);
  f.biasAdd('attention.query_key_value.bias', T, 3 * hp);
  rotaryForward(f);
  attentionCore(f);
  const probs = f.d.attentionDropout > 0 ? 'attention.dropout.out' : 'attention.probs';
  f.bmm('attention.context', s, headDim, s, [f.saved(probs, f.d.scores), f.saved('attention.v', T * hp)]);
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
 * gpt-neox 2022 rotary, unfused, on the first `rotary` dims of every head of q and of k:
 * x·cos, neg(x[r/2:]), cat(-x2, x1), ·sin, add (5 kernels per tensor, E elements each; cos/sin are
 * [s, r] fp16 caches), then torch.cat with the pass-through dims when rotary < head_dim.
 */
function rotaryForward(f: OpBuilder): void {
  const { tokens: T, hp, heads, rotary: r, headDim, s, e } = f.d;
  if (r === 0) return;
  const E = T * heads * r;
  f.memory('attention.rotary', 'elementwise', 2 * E, {
    flops: 2 * 3.5 * E, read: 2 * (5.5 * E + 2 * s * r) * e, write: 2 * 4.5 * E * e, kernels: 10,
  });
  if (r < headDim) f.copy('attention.rotary-concat', 2 * T * hp, 2);
}

function mlpForward(f: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, h, ffn, e } = f.d;
  f.gemm('mlp.dense_h_to_4h', T, ffn, h, 'dense', [f.saved('post_attention_layernorm.out', T * h)]);
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
  const { tokens: T, h, hiddenDropout } = bk.d;
  // The residual adds and the forward all-reduce pass the output gradient through unchanged.
  if (hiddenDropout > 0) bk.dropoutBackward('mlp.hidden-dropout', T * h);
  mlpBackward(bk, cfg);
  bk.layernormBackward('post_attention_layernorm', T, h);
  bk.accumulate('post_attention_layernorm', 2 * h, 2);
  if (!cfg.parallelResidual) bk.add('attention.residual.grad-sum', T * h, 2);
  if (hiddenDropout > 0) bk.dropoutBackward('attention.hidden-dropout', T * h);
  attentionBackward(bk);
  bk.layernormBackward('input_layernorm', T, h);
  bk.accumulate('input_layernorm', 2 * h, 2);
  // Gradients reaching the layer input: residual + ln1 (+ ln2 with the parallel residual).
  bk.add('layer.input-grad-sum', T * h, cfg.parallelResidual ? 3 : 2);
}

function mlpBackward(bk: OpBuilder, cfg: NeoXConfig): void {
  const { tokens: T, h, ffn, e } = bk.d;
  bk.biasGrad('mlp.dense_4h_to_h', T, h);
  bk.gemm('mlp.dense_4h_to_h.dgrad', T, ffn, h, 'dense');
  bk.gemm('mlp.dense_4h_to_h.wgrad', h, ffn, T, 'dense');
  bk.accumulate('mlp.dense_4h_to_h', h * ffn + h, 2);
  const geluBack = cfg.activation === 'gelu-tanh' ? 'mlp.bias-gelu.backward' : 'mlp.gelu.backward';
  bk.memory(geluBack, 'elementwise', T * ffn, {
    flops: F.geluBackward * T * ffn, read: e * (2 * T * ffn + ffn), write: e * T * ffn,
  });
  bk.biasGrad('mlp.dense_h_to_4h', T, ffn);
  bk.gemm('mlp.dense_h_to_4h.dgrad', T, h, ffn, 'dense');
  bk.gemm('mlp.dense_h_to_4h.wgrad', ffn, h, T, 'dense');
  bk.accumulate('mlp.dense_h_to_4h', ffn * h + ffn, 2);
  bk.allReduce('mlp.input-grad.all-reduce', T * h);
}

function attentionBackward(bk: OpBuilder): void {
  const { tokens: T, h, hp, s, headDim, scores: S, e, heads, rotary: r } = bk.d;
  bk.biasGrad('attention.dense', T, h);
  bk.gemm('attention.dense.dgrad', T, hp, h, 'dense');
  bk.gemm('attention.dense.wgrad', h, hp, T, 'dense');
  bk.accumulate('attention.dense', h * hp + h, 2);
  bk.copy('attention.context-permute.backward', T * hp);
  bk.bmm('attention.context.grad-probs', s, s, headDim);
  bk.bmm('attention.context.grad-values', s, headDim, s);
  if (bk.d.attentionDropout > 0) bk.dropoutBackward('attention.dropout', S);
  bk.memory('attention.softmax.backward', 'softmax', S, { flops: F.softmaxBackward * S, read: 2 * e * S, write: e * S });
  bk.bmm('attention.scores.grad-query', s, headDim, s);
  bk.bmm('attention.scores.grad-key', s, headDim, s);
  if (r > 0) {
    // Mirror of the forward chain (·sin, ·cos, neg and the slice copies autograd makes), per q and k.
    const E = T * heads * r;
    bk.memory('attention.rotary.backward', 'elementwise', 2 * E, {
      flops: 2 * 3.5 * E, read: 2 * 5.5 * E * e, write: 2 * 4.5 * E * e, kernels: 10,
    });
    if (r < headDim) bk.copy('attention.rotary-concat.backward', 2 * T * hp, 2);
  }
  // q, k, v are slices of the fused QKV output: their gradients are concatenated back (SplitBackward).
  bk.copy('attention.qkv-split.backward', 3 * T * hp);
  bk.biasGrad('attention.query_key_value', T, 3 * hp);
  bk.gemm('attention.query_key_value.dgrad', T, h, 3 * hp, 'dense');
  bk.gemm('attention.query_key_value.wgrad', 3 * hp, h, T, 'dense');
  bk.accumulate('attention.query_key_value', 3 * hp * h + 3 * hp, 2);
  bk.allReduce('attention.input-grad.all-reduce', T * h);
}
