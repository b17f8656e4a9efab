import type { NeoXConfig } from '../model/config.js';
import { embeddingParamTensors, headParamTensors, layerParamTensors, perRankNumel, wordEmbeddingTensor, type ParamTensor } from '../model/params.js';
import type { Bucket, ModelChunk } from './task-graph.js';

/**
 * How DeepSpeed (DeeperSpeed 0.3.15 for ZeRO 0/1) flattens, partitions and buckets one rank's parameters
 * for data-parallel gradient reduction. Pure arithmetic over the rank's tensor list; the step builder turns
 * the buckets into collectives.
 */

/** Where a tensor's gradient becomes final in the backward: the embedding, a layer, or the head. */
export type PartKey = 'embedding' | 'head' | number;

export interface RankTensor {
  name: string;
  /** Elements on this TP rank. */
  numel: number;
  noWeightDecay: boolean;
  part: PartKey;
}

/** A data-parallel bucket plus when its gradients are complete (the part whose backward finishes it). */
export interface GradBucket extends Bucket {
  readyAfter: PartKey;
  /** Parameter group (ZeRO 1: 0 = weight decay, 1 = no weight decay). */
  group: number;
}

/** The rank's tensors of one model chunk, in module (named_parameters) order. */
export function chunkTensors(cfg: NeoXConfig, chunk: ModelChunk, tp: number, tiedCopyOnLastStage: boolean): RankTensor[] {
  const rank = (ts: ParamTensor[], part: PartKey) => ts.map((t) => ({ name: t.name, numel: perRankNumel(t, tp), noWeightDecay: t.noWeightDecay, part }));
  const out: RankTensor[] = [];
  if (chunk.hasEmbedding) out.push(...rank(embeddingParamTensors(cfg, tp), 'embedding'));
  for (let l = chunk.firstLayer; l < chunk.endLayer; l++) out.push(...rank(layerParamTensors(cfg, l), l));
  if (chunk.hasHead) {
    out.push(...rank(headParamTensors(cfg, tp), 'head'));
    // A tied model's head stage holds its own copy of the word embedding (DeepSpeed TiedLayerSpec, Megatron's embedding group).
    if (cfg.tieWordEmbeddings && tiedCopyOnLastStage) out.push(...rank([wordEmbeddingTensor(cfg, tp)], 'head'));
  }
  return out;
}

const sum = (ts: RankTensor[]) => ts.reduce((a, t) => a + t.numel, 0);

/**
 * gpt-neox's two optimizer groups (model/utils.py get_params_for_weight_decay_optimization): weight decay
 * first, then LayerNorms and biases. Both always exist; on a rank they may be empty.
 */
export function optimizerGroups(ts: RankTensor[]): [RankTensor[], RankTensor[]] {
  return [ts.filter((t) => !t.noWeightDecay), ts.filter((t) => t.noWeightDecay)];
}

/** The rank's non-empty optimizer groups: what it flattens and partitions. */
export function paramGroups(ts: RankTensor[]): RankTensor[][] {
  return optimizerGroups(ts).filter((g) => g.length > 0);
}

/**
 * DeeperSpeed stage1.py `best_max_elems_per_comm`: if using one interval fewer than ⌈N / max⌉ pads less,
 * grow the interval by that padding (N elements in the group, max = reduce_bucket_size).
 */
export function bestMaxElemsPerComm(n: number, maxPerComm: number, dp: number): number {
  const maxIntervals = Math.ceil(n / maxPerComm);
  const paddingForMax = maxPerComm * maxIntervals - n;
  const minIntervals = Math.floor(n / maxPerComm);
  if (minIntervals === 0) return maxPerComm;
  const paddingForMin = Math.ceil(n / (dp * minIntervals));
  return paddingForMax > paddingForMin ? paddingForMin + maxPerComm : maxPerComm;
}

export interface Zero1Layout {
  maxElemsPerComm: number;
  /** Elements of one rank's sub-partition in one interval. */
  subPartition: number;
  intervals: number;
  /** Flat group size after padding: intervals × subPartition × dp. */
  padded: number;
}

/** DeeperSpeed stage1.py `flatten_dense_tensors_sub_partition_aligned` + `get_data_parallel_sub_partitions`. */
export function zero1Layout(n: number, reduceBucketSize: number, dp: number): Zero1Layout {
  const maxElemsPerComm = bestMaxElemsPerComm(n, reduceBucketSize, dp);
  const paramPart = Math.ceil(n / dp);
  const commPart = Math.floor(maxElemsPerComm / dp);
  const [intervals, subPartition] = paramPart <= commPart ? [1, paramPart] : [Math.ceil(paramPart / commPart), commPart];
  return { maxElemsPerComm, subPartition, intervals, padded: intervals * subPartition * dp };
}

/** ZeRO-1: one reduce-scatter / all-gather bucket per interval per group; the rank owns one sub-partition of each. */
export function zero1Buckets(ts: RankTensor[], reduceBucketSize: number, dp: number): { buckets: GradBucket[]; shard: number } {
  const buckets: GradBucket[] = [];
  let offset = 0;
  let shard = 0;
  paramGroups(ts).forEach((g, group) => {
    const n = sum(g);
    const L = zero1Layout(n, reduceBucketSize, dp);
    const width = L.subPartition * dp;
    for (let i = 0; i < L.intervals; i++) {
      const elements = Math.max(0, Math.min(width, n - i * width));
      buckets.push({ offset: offset + i * width, elements, paddedElements: width, readyAfter: 'embedding', group });
    }
    offset += L.padded;
    shard += L.intervals * L.subPartition;
  });
  return { buckets, shard };
}

/**
 * Buckets filled tensor by tensor in `order`. DeepSpeed's buffered all-reduce (ZeRO 0, engine.py
 * allreduce_no_retain) closes a bucket once it holds more than `size` elements ('over'); ZeRO-2's IPG bucket
 * is reduced before a tensor that would overflow it ('at-most').
 */
export function fillBuckets(ts: RankTensor[], size: number, order: 'forward' | 'backward', rule: 'over' | 'at-most', dp: number): GradBucket[] {
  const offsets: number[] = [];
  ts.reduce((o, t) => (offsets.push(o), o + t.numel), 0);
  const idx = ts.map((_, i) => i);
  if (order === 'backward') idx.reverse();
  const buckets: GradBucket[] = [];
  let cur: number[] = [];
  let n = 0;
  const close = () => {
    if (cur.length === 0) return;
    const first = Math.min(...cur.map((i) => offsets[i]!));
    buckets.push({ offset: first, elements: n, paddedElements: Math.ceil(n / dp) * dp, readyAfter: ts[cur[cur.length - 1]!]!.part, group: 0 });
    cur = [];
    n = 0;
  };
  for (const i of idx) {
    if (rule === 'at-most' && n > 0 && n + ts[i]!.numel > size) close();
    cur.push(i);
    n += ts[i]!.numel;
    if (rule === 'over' && n > size) close();
  }
  close();
  return buckets;
}

/** ZeRO 2/3 partition: each group's flat buffer split evenly over DP (padded to a multiple of DP). */
export function evenShard(ts: RankTensor[], dp: number): number {
  return paramGroups(ts).reduce((a, g) => a + Math.ceil(sum(g) / dp), 0);
}

/** `total` elements gathered in equal shards of at most `bucket` elements (ZeRO-2 all_gather_partitions). */
export function gatherBuckets(total: number, bucket: number, dp: number): GradBucket[] {
  const shards = Math.max(1, Math.ceil(total / bucket));
  const per = Math.ceil(total / shards / dp) * dp;
  return Array.from({ length: shards }, (_, i) => ({
    offset: i * per, elements: Math.max(0, Math.min(per, total - i * per)), paddedElements: per, readyAfter: 'embedding' as const, group: 0,
  }));
}

export function tensorsOfPart(ts: RankTensor[], part: PartKey): RankTensor[] {
  return ts.filter((t) => t.part === part);
}

export const numelOf = sum;
