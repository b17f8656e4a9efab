import { learnedPositions, type NeoXConfig } from './config.js';
import { OpBuilder } from './op-builder.js';
import { opDims, type Op, type OpOptions } from './ops.js';

/**
 * Ops of the first pipeline stage before layer 0: gpt-neox EmbeddingPipe → VocabParallelEmbedding
 * (mpu/layers.py) and the transpose [b, s, h] → [s, b, h]. With TP > 1 each rank owns a slice of the
 * vocabulary: it masks ids outside its range, gathers its rows, zeroes the masked rows and all-reduces.
 * Learned positions (Megatron, GPT-2) add a position-table lookup and the sum after the all-reduce.
 * Embeddings are never checkpointed, so there is no recompute phase.
 *
 * Sequence parallelism: the output leaves for the layers as s/tp-token shards. Megatron-core
 * (LanguageModelEmbedding, `reduce_scatter_embeddings`) transposes to [s, b, h] first and reduce-scatters
 * instead of all-reducing; with learned positions it all-reduces, adds the positions and keeps its shard
 * (scatter_to_sequence_parallel_region, a copy). Dropout then runs on the shard; the backward all-gathers the
 * output gradient first.
 */
export function embeddingOps(cfg: NeoXConfig, opts: OpOptions): Op[] {
  const d = opDims(cfg, opts);
  const { tokens: T, spTokens: Ts, h, vocab, e, tp, hiddenDropout, sp } = d;
  const learned = learnedPositions(cfg);
  const f = new OpBuilder(d, 'forward');
  if (tp > 1) {
    // (ids < start) | (ids >= end), ids.clone() - start, masked_input[mask] = 0: small int64 kernels.
    f.memory('embed_in.mask-ids', 'elementwise', T, { flops: 4 * T, read: 35 * T, write: 27 * T, kernels: 6, dtype: 'int64' });
  }
  f.memory('embed_in', 'embedding', T * h, {
    flops: 0, read: 8 * T + e * T * h, write: e * T * h, saves: [{ name: 'embed_in.ids', bytes: 8 * T }],
  });
  if (tp > 1) f.memory('embed_in.mask-rows', 'elementwise', T * h, { flops: 0, read: e * T * h + T, write: e * T * h });
  if (sp) f.copy('embed_in.transpose', T * h);
  if (sp && !learned) f.tpReduce('embed_in', T * h);
  else f.allReduce('embed_in.all-reduce', T * h);
  if (learned) {
    // Megatron Embedding.forward: words + position_embeddings(position_ids), each rank its full [s, h] rows.
    f.memory('embed_pos', 'embedding', T * h, {
      flops: 0, read: 8 * T + e * T * h, write: e * T * h, saves: [{ name: 'embed_pos.ids', bytes: 8 * T }],
    });
    f.add('embed_pos.add', T * h);
  }
  if (sp && learned) f.copy('embed_in.scatter', Ts * h);
  if (hiddenDropout > 0) f.dropout('embed_in.dropout', Ts * h);
  if (!sp) f.copy('embed_in.transpose', T * h);

  const bk = new OpBuilder(d, 'backward');
  if (!sp) bk.copy('embed_in.transpose.backward', T * h);
  if (hiddenDropout > 0) bk.dropoutBackward('embed_in.dropout', Ts * h);
  if (sp) {
    bk.spGather('embed_in.output-grad.all-gather', T * h);
    bk.copy('embed_in.transpose.backward', T * h);
  }
  if (tp > 1) bk.memory('embed_in.mask-rows.backward', 'elementwise', T * h, { flops: 0, read: e * T * h + T, write: e * T * h });
  // embedding_dense_backward: sort the ids, sum the gradient rows per id into a zeroed [vocab/TP, h] grad.
  bk.memory('embed_in.backward', 'embedding', T * h, {
    flops: T * h, read: e * T * h + 8 * T, write: e * vocab * h, kernels: 4,
  });
  bk.accumulate('embed_in', vocab * h, 1);
  if (learned) {
    // The sum passes the gradient to both tables; the position table's gradient sums rows per position.
    const P = cfg.maxPositionEmbeddings;
    bk.memory('embed_pos.backward', 'embedding', T * h, { flops: T * h, read: e * T * h + 8 * T, write: e * P * h, kernels: 4 });
    bk.accumulate('embed_pos', P * h, 1);
  }
  return [...f.ops, ...bk.ops];
}
