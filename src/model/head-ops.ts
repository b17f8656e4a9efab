import type { NeoXConfig } from './config.js';
import { OpBuilder } from './op-builder.js';
import { opDims, type Op, type OpOptions } from './ops.js';

/**
 * Ops of the last pipeline stage after the final layer: the transpose back to [b, s, h], the final
 * LayerNorm, the column-parallel output projection (bias-free logits, fp16, vocabulary split over TP;
 * `parallel_output` keeps them split) and gpt-neox's loss: the logits cast to fp32 and Megatron's
 * vocab_parallel_cross_entropy (max, shift, target logit, exp-sum, normalise; one fp32 all-reduce of s·b
 * values after each of the three reductions), then the masked mean. None of it is recomputed.
 *
 * Sequence parallelism: the transpose and the final LayerNorm run on the s/tp-token shard; the output
 * projection is a column-parallel GEMM that all-gathers its input (Megatron's parallel_lm_logits with
 * sequence_parallel), keeps the shard, re-gathers it for the weight gradient and reduce-scatters the input
 * gradient.
 */
export function headOps(cfg: NeoXConfig, opts: OpOptions): Op[] {
  const d = opDims(cfg, opts);
  const { tokens: T, spTokens: Ts, h, vocab: V, e } = d;
  const TV = T * V;
  const out = cfg.tieWordEmbeddings ? 'embed_in.as-output' : 'embed_out';
  const f = new OpBuilder(d, 'forward');
  f.copy('final_layer_norm.transpose', Ts * h);
  f.layernorm('final_layer_norm', Ts, h, 'final_layer_norm.input');
  f.spGather('final_layer_norm.out.all-gather', T * h);
  f.gemm(out, T, V, h, 'logits', [f.saved('final_layer_norm.out', Ts * h)]);
  f.memory('loss.logits-to-fp32', 'elementwise', TV, { flops: 0, read: e * TV, write: 4 * TV });
  f.memory('loss.max', 'cross-entropy', TV, { flops: TV, read: 4 * TV, write: 4 * T, dtype: 'fp32' });
  f.allReduce('loss.max.all-reduce', T, 'fp32');
  f.memory('loss.shift', 'cross-entropy', TV, { flops: TV, read: 4 * TV + 4 * T, write: 4 * TV, dtype: 'fp32' });
  // Target mask, masked target, gather of the target logit, zeroing of foreign targets: s·b-sized kernels.
  f.memory('loss.target-logit', 'cross-entropy', T, { flops: 4 * T, read: 40 * T, write: 24 * T, kernels: 6, dtype: 'fp32' });
  f.allReduce('loss.target-logit.all-reduce', T, 'fp32');
  f.memory('loss.exp-sum', 'cross-entropy', TV, { flops: 2 * TV, read: 8 * TV, write: 4 * TV + 4 * T, kernels: 2, dtype: 'fp32' });
  f.allReduce('loss.sum-exp.all-reduce', T, 'fp32');
  // log(sum) - target, and exp / sum in place: the fp32 softmax kept for the backward.
  f.memory('loss.softmax', 'cross-entropy', TV, {
    flops: TV + 2 * T, read: 4 * TV + 12 * T, write: 4 * TV + 4 * T, kernels: 3, dtype: 'fp32',
    saves: [f.saved('loss.softmax', TV, 'fp32')],
  });
  f.memory('loss.mean', 'elementwise', T, { flops: 3 * T, read: 12 * T, write: 8, kernels: 3, dtype: 'fp32' });

  const bk = new OpBuilder(d, 'backward');
  bk.memory('loss.mean.backward', 'elementwise', T, { flops: T, read: 8 * T, write: 4 * T, kernels: 2, dtype: 'fp32' });
  // grad = softmax - onehot(target) on the owning rank, times the per-token loss gradient (in place).
  bk.memory('loss.cross-entropy.backward', 'cross-entropy', TV, {
    flops: TV + T, read: 4 * TV + 24 * T, write: 4 * TV + 4 * T, kernels: 3, dtype: 'fp32',
  });
  bk.memory('loss.logits-to-fp32.backward', 'elementwise', TV, { flops: 0, read: 4 * TV, write: e * TV });
  bk.spGather('final_layer_norm.out.re-gather', T * h);
  bk.gemm(`${out}.dgrad`, T, h, V, 'logits');
  bk.gemm(`${out}.wgrad`, V, h, T, 'logits');
  bk.accumulate(out, V * h, 1);
  bk.tpReduce(`${out}.input-grad`, T * h);
  bk.layernormBackward('final_layer_norm', Ts, h);
  bk.accumulate('final_layer_norm', 2 * h, 2);
  bk.copy('final_layer_norm.transpose.backward', Ts * h);
  return [...f.ops, ...bk.ops];
}
