/**
 * What one checkpoint save writes and how long it blocks training, from the model states each rank holds.
 *
 * DeeperSpeed 0.3.15 `save_checkpoint` (what gpt-neox 2022 ran):
 * - model states: the ranks with data-parallel index 0 write their fp16 parameters (one file per pipeline
 *   layer and TP rank: `layer_XX-model_YY-model_states.pt`), 2 bytes per parameter;
 * - optimizer states: with ZeRO ≥ 1 every rank writes its own partition of the fp32 master weights and Adam
 *   m and v (12 bytes per parameter / DP); without ZeRO the data-parallel-index-0 ranks write them all.
 * For NeoX-20B at TP 2 this totals 14 B × 20,556,201,984 = 287.8 GB = 268.0 GiB, the "268GB" full
 * checkpoint of the gpt-neox README (neox-20b.md §1.6); the fp16 part, 41.11 GB, is the slim checkpoint.
 * The save is synchronous: training waits until the slowest node has written its bytes.
 */
export interface RankStates {
  /** Node the rank runs on. */
  node: number;
  /** Data-parallel index of the rank (0 writes the model states). */
  dpIndex: number;
  /** Parameters the rank holds (its TP and pipeline shard). */
  params: number;
}

export interface CheckpointSize {
  /** fp16 parameters, bytes (the slim checkpoint). */
  modelBytes: number;
  /** fp32 master weights + Adam m and v, bytes. */
  optimizerBytes: number;
  totalBytes: number;
  /** Bytes each node writes. */
  bytesPerNode: number[];
}

export const FP16_BYTES = 2;
/** fp32 master copy + Adam m + Adam v (ZeRO paper, K = 12 for mixed-precision Adam). */
export const OPTIMIZER_BYTES_PER_PARAM = 12;

export function checkpointSize(ranks: readonly RankStates[], nodes: number, dp: number, zeroStage: number): CheckpointSize {
  const bytesPerNode = new Array<number>(nodes).fill(0);
  let modelBytes = 0;
  let optimizerBytes = 0;
  for (const r of ranks) {
    const model = r.dpIndex === 0 ? FP16_BYTES * r.params : 0;
    const optimizer = zeroStage >= 1 ? (OPTIMIZER_BYTES_PER_PARAM * r.params) / dp : r.dpIndex === 0 ? OPTIMIZER_BYTES_PER_PARAM * r.params : 0;
    modelBytes += model;
    optimizerBytes += optimizer;
    bytesPerNode[r.node]! += model + optimizer;
  }
  return { modelBytes, optimizerBytes, totalBytes: modelBytes + optimizerBytes, bytesPerNode };
}

/** Seconds one save blocks training: the busiest node's bytes at its write bandwidth. */
export function saveSeconds(size: CheckpointSize, writeBandwidthPerNode: number): number {
  if (!(writeBandwidthPerNode > 0)) throw new RangeError(`checkpoint write bandwidth must be > 0 B/s, got ${writeBandwidthPerNode}`);
  return Math.max(0, ...size.bytesPerNode) / writeBandwidthPerNode;
}
