import type { ComputeOp, DType, Phase } from '../model/ops.js';
import type { Axis, Plan } from './plan-types.js';

/**
 * THE TASK GRAPH — the contract between the workload (what every GPU does in one optimizer step), the
 * simulator (which times it) and the trainer (which executes it with real tensors).
 *
 * Execution model (CUDA-stream semantics)
 * - Every rank runs a program: a list of tasks in ISSUE ORDER (the order the host enqueues them).
 * - Each task runs on one of the rank's streams (STREAMS). Tasks of one stream run one at a time, FIFO in
 *   issue order; different streams run concurrently.
 * - A task may start when (1) the previous task of its stream has finished, (2) every task in its `deps`
 *   has finished (same-rank dependencies; always earlier in issue order, so issue order is a topological
 *   order and the graph is acyclic by construction), and (3) for a collective, every member rank has reached
 *   its task of the same instance; for a send/recv, its partner has reached the matching task.
 * - Ranks synchronise ONLY through collectives and send/recv pairs.
 * - Send and recv tasks are exempt from rule (1): like NCCL point-to-point calls batched in one group
 *   (Megatron's batch_isend_irecv), they wait only for their deps and their partner, so one rank can post a
 *   send downstream and a recv upstream concurrently. A matched send/recv pair is a rendezvous: it starts
 *   when both tasks are ready and both end when the message has arrived. The builder orders them with deps
 *   (with DeeperSpeed's synchronous broadcasts every later task of the rank depends on them).
 *
 * Compactness
 * - Ranks with the same pipeline coordinate run the same program (DP replicas and TP ranks of a stage do
 *   identical work on different data), so the graph stores one `RankProgram` per pipeline stage and maps
 *   ranks to programs. Communicators are named relative to the rank (its TP group, its DP group, its
 *   pipeline neighbour): the executor resolves them with `groups` and the rank's coordinates.
 * - Programs are struct-of-arrays: task i of a program is field[i] of every typed array.
 * - Compute tasks point at shared op sequences (`opSeqs`), so a compute model times each distinct sequence
 *   once.
 *
 * Collective instances: a collective task names a communicator kind (`comm`) and a `key`. The instance is
 * (comm kind, the rank's group index of that kind, key): every member rank of that group has exactly one
 * task with that key, with the same collective, bytes and dtype. Keys are interned names (`keys[key]`,
 * e.g. "fwd/mb3/layer12/layer.all-reduce"), unique within a rank's program.
 * Send/recv: a send on rank r with key k pairs with the recv with key k on rank `peerRank(r, peer)`; that
 * recv's own `peer` points back at r.
 */

/** Streams of one rank, by index. */
export const STREAMS = ['compute', 'tp-comm', 'pp-comm', 'dp-comm'] as const;
export type StreamName = (typeof STREAMS)[number];
export const STREAM = { compute: 0, tp: 1, pp: 2, dp: 3 } as const;

export const TASK_KINDS = ['compute', 'collective', 'send', 'recv'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const KIND = { compute: 0, collective: 1, send: 2, recv: 3 } as const;

/** Phases of a step: the model's op phases ('step' = after the last backward: grad sync, optimizer). */
export const PHASES = ['forward', 'recompute', 'backward', 'step'] as const satisfies readonly Phase[];
export const PHASE = { forward: 0, recompute: 1, backward: 2, step: 3 } as const;

/** What a task is for (the breakdown and the trainer both read it). */
export const PARTS = [
  'embedding', // input embedding compute and its TP all-reduce (first stage)
  'layer', // one transformer layer's compute or TP all-reduce
  'head', // final norm, logits, loss (last stage), and their TP all-reduces
  'activation', // pipeline send/recv of a layer-boundary activation (forward)
  'activation-grad', // pipeline send/recv of its gradient (backward)
  'attention-mask', // the attention mask gpt-neox passes along the pipeline with each forward activation
  'grad-reduce', // data-parallel gradient all-reduce (ZeRO 0) or reduce-scatter (ZeRO 1-3)
  'tied-grads', // all-reduce of tied embedding gradients between first and last stage (DeepSpeed ReduceTiedGrads)
  'overflow-check', // fp16 overflow flag all-reduces (DeepSpeed CheckOverflow)
  'grad-norm', // global gradient-norm all-reduces for clipping
  'optimizer', // the Adam step on this rank's (ZeRO) shard
  'param-gather', // all-gather of updated fp16 params (ZeRO 1-2) or of a layer's params before use (ZeRO 3)
] as const;
export type TaskPart = (typeof PARTS)[number];
export const PART = Object.fromEntries(PARTS.map((p, i) => [p, i])) as { readonly [K in TaskPart]: number };

export const COLLECTIVES = ['all-reduce', 'reduce-scatter', 'all-gather', 'broadcast'] as const;
export type CollectiveKind = (typeof COLLECTIVES)[number];
export const COLLECTIVE = { 'all-reduce': 0, 'reduce-scatter': 1, 'all-gather': 2, broadcast: 3 } as const;

/**
 * Communicator kinds, relative to the rank:
 * - 'tp':   same (pipe, data), all model indices — Megatron's model-parallel group;
 * - 'dp':   same (pipe, model), all data indices — DeepSpeed's data-parallel group (ZeRO partitions);
 * - 'mp':   same data index, all (pipe, model) — DeepSpeed's PipelineParallelGrid slice, used by the
 *           grad-norm and overflow all-reduces (mpu.get_model_parallel_group());
 * - 'tied': first and last pipeline stage with the same (data, model) — tied-embedding gradient sum;
 * - 'pipe': the rank and its pipeline neighbour (send/recv only; see `peer`);
 * - 'world': every rank (DeepSpeed's ZeRO overflow check all-reduces over the world group).
 */
export const COMMS = ['tp', 'dp', 'mp', 'tied', 'pipe', 'world'] as const;
export type CommKind = (typeof COMMS)[number];
export const COMM = { tp: 0, dp: 1, mp: 2, tied: 3, pipe: 4, world: 5 } as const;

/** Element types of task payloads: the model's, plus 'uint8' for flags (DeepSpeed's overflow ByteTensor). */
export const DTYPES = ['fp16', 'bf16', 'fp32', 'int64', 'uint8'] as const;
export type TaskDType = DType | 'uint8';
export const DTYPE_CODE = { fp16: 0, bf16: 1, fp32: 2, int64: 3, uint8: 4 } as const satisfies Record<TaskDType, number>;

/**
 * Memory categories of the per-GPU tracker. Static categories are resident for the whole step
 * (`RankProgram.staticMemory`); the others come and go with memory events.
 */
export const MEMORY_CATEGORIES = [
  'fp16-params', // 16-bit model weights held by the rank (ZeRO 3: its shard)
  'fp16-grads', // 16-bit gradient buffers (ZeRO 2/3: transient per bucket plus the reduced shard)
  'fp32-grads', // fp32 gradient partition materialised for the optimizer step
  'fp32-master', // fp32 master weights (ZeRO 1-3: the rank's shard)
  'adam-m', // Adam first moment
  'adam-v', // Adam second moment
  'gathered-params', // ZeRO 3: a layer's full fp16 params, gathered before use
  'checkpointed-activations', // layer inputs kept under full recompute, per in-flight micro-batch
  'stored-activations', // tensors kept for backward without (or beside selective) recompute
  'recompute-working-set', // one layer's activations re-created right before its backward
  'comm-buckets', // ZeRO reduce / all-gather staging buffers
  'logits', // fp32 logits/softmax of the loss on the last stage
  'p2p-buffers', // pipeline send/recv buffers
  'runtime', // held by the process, not by tensors: CUDA context, NCCL buffers, cuBLAS workspaces. Sized from the hardware by the simulator (sim/memory/runtime-reserve.ts); the workload never emits it
] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];
export const MEM = Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, i])) as { readonly [K in MemoryCategory]: number };

/** A named sequence of model ops (from src/model) that one compute task launches, in order. */
export interface OpSeq {
  name: string;
  ops: ComputeOp[];
}

/**
 * Allocations (+bytes) and frees (−bytes), each at the start or the end of a task, in issue order.
 * The tracker adds them up over simulated time on top of `staticMemory`: peak per GPU comes from events.
 */
export interface MemoryEvents {
  count: number;
  task: Int32Array;
  /** 0 = at the task's start, 1 = at its end. */
  atEnd: Uint8Array;
  category: Uint8Array;
  /** Signed: + allocation, − free. Every allocation is freed within the step unless noted by the builder. */
  bytes: Float64Array;
}

/** A contiguous range of the stage's flattened parameters that one data-parallel collective carries. */
export interface Bucket {
  /** Offset into the rank's flat parameter vector (DeepSpeed flatten order, this stage's params), elements. */
  offset: number;
  /** Elements, before any alignment padding. */
  elements: number;
  /** Elements the collective moves (after DeepSpeed's padding to a multiple of DP and alignment). */
  paddedElements: number;
}

/** A contiguous model chunk: one pipeline stage, or one virtual stage of the interleaved schedule. */
export interface ModelChunk {
  /** 0 … pp·v − 1, in model order. */
  vstage: number;
  /** Physical stage (pipe coordinate) that holds it: vstage mod pp. */
  pipe: number;
  /** Transformer layers [firstLayer, endLayer). */
  firstLayer: number;
  endLayer: number;
  hasEmbedding: boolean;
  hasHead: boolean;
  /** Parameters of this chunk on each of its TP ranks. */
  paramsPerRank: number;
}

/** The task list of every rank with one pipeline coordinate. Length-`size` typed arrays, task i = index i. */
export interface RankProgram {
  pipe: number;
  size: number;
  kind: Uint8Array; // TASK_KINDS
  stream: Uint8Array; // STREAMS
  phase: Uint8Array; // PHASES
  part: Uint8Array; // PARTS
  /** Model chunk the task works on (−1 for step-level tasks). */
  vstage: Int16Array;
  /** Micro-batch 0 … GAS − 1 (−1 for step-level tasks). */
  microBatch: Int32Array;
  /** Transformer layers [layerStart, layerEnd) a layer task covers (−1 otherwise). */
  layerStart: Int32Array;
  layerEnd: Int32Array;
  /** Compute tasks: index into `TaskGraph.opSeqs` (−1 for communication). */
  opSeq: Int32Array;
  /** Index into `TaskGraph.labels`: the model's op name for TP comm, a descriptive name otherwise. */
  label: Int32Array;
  /** Communication: COMMS index (NONE for compute). */
  comm: Uint8Array;
  /** Collectives: COLLECTIVES index (NONE otherwise). */
  collective: Uint8Array;
  /**
   * Communication size in bytes, nccl-tests' convention: all-reduce and broadcast = the buffer on each rank;
   * reduce-scatter = the whole input buffer (all ranks' parts); all-gather = the whole output buffer;
   * send/recv = the message. 0 for compute.
   */
  bytes: Float64Array;
  dtype: Uint8Array; // DTYPES
  /** Instance key (index into `TaskGraph.keys`); −1 for compute. */
  key: Int32Array;
  /** Send/recv: partner's pipe coordinate minus this rank's, modulo pp (+1 downstream, −1 upstream); 0 otherwise. */
  peer: Int8Array;
  /**
   * 1 when the compute stream waits for this communication (Megatron's TP all-reduce, DeeperSpeed's
   * synchronous broadcast P2P, non-overlapped ZeRO reductions): the next compute task depends on it (the
   * dependency is in `deps`); the flag tells reports that the wait is exposed by design.
   */
  blocksCompute: Uint8Array;
  /** Data-parallel collectives: index into `buckets` (−1 otherwise). */
  bucket: Int32Array;
  /** Dependencies in CSR form: task i depends on deps[depStart[i] … depStart[i+1]), all < i. */
  depStart: Int32Array;
  deps: Int32Array;
  memory: MemoryEvents;
  /** Bytes resident for the whole step, by MEMORY_CATEGORIES index. */
  staticMemory: Float64Array;
  buckets: Bucket[];
  /** Model chunks this rank holds (one, or v for the interleaved schedule). */
  chunks: ModelChunk[];
  /** Parameters held by each rank of this stage (fp16, TP-local, all chunks). */
  paramsPerRank: number;
  /** Parameters whose fp32 master copy and Adam states this rank owns (its ZeRO partition, padded). */
  shardParams: number;
}

/** Communicators of one kind: rank → group index, and each group's member ranks in communicator order. */
export interface CommGroups {
  groupOfRank: Int32Array;
  members: Int32Array[];
}

export interface RankCoords {
  pipe: Int32Array;
  data: Int32Array;
  model: Int32Array;
}

export interface TaskGraph {
  plan: Plan;
  /** Model name (preset or file). */
  model: string;
  ranks: number;
  /** Rank → (pipe, data, model) under `plan.rankOrder`. */
  coords: RankCoords;
  /** Rank → global GPU index (node · gpusPerNode + local), the launcher's node-by-node fill. */
  gpuOfRank: Int32Array;
  /** Rank → index into `programs`. */
  programOfRank: Int32Array;
  programs: RankProgram[];
  /** Communicators by COMMS index ('pipe' has one 2-rank group per neighbouring pair of stages). */
  groups: CommGroups[];
  opSeqs: OpSeq[];
  labels: string[];
  keys: string[];
  /** Every model chunk in model order. */
  chunks: ModelChunk[];
  /** Axes in rank order, outermost first, with their sizes. */
  axes: readonly { axis: Axis; size: number }[];
}

/** Rank with the given coordinates. */
export function rankOf(g: Pick<TaskGraph, 'axes'>, c: { pipe: number; data: number; model: number }): number {
  let r = 0;
  for (const { axis, size } of g.axes) r = r * size + c[axis];
  return r;
}

/** The pipeline partner of `rank` at pipe offset `peer` (wrapping around; interleaved chunks wrap). */
export function peerRank(g: TaskGraph, rank: number, peer: number): number {
  const pp = g.plan.pp;
  return rankOf(g, { pipe: (((g.coords.pipe[rank]! + peer) % pp) + pp) % pp, data: g.coords.data[rank]!, model: g.coords.model[rank]! });
}

/** Member ranks of the communicator a collective task of `rank` runs on. */
export function commMembers(g: TaskGraph, rank: number, comm: number): Int32Array {
  const groups = g.groups[comm]!;
  return groups.members[groups.groupOfRank[rank]!]!;
}

/** Total tasks over all ranks. */
export function taskCount(g: TaskGraph): number {
  let n = 0;
  for (let r = 0; r < g.ranks; r++) n += g.programs[g.programOfRank[r]!]!.size;
  return n;
}

/** One task as a plain object, for tests, traces and the trainer's dispatcher (not for hot loops). */
export interface TaskView {
  index: number;
  kind: TaskKind;
  stream: StreamName;
  phase: Phase;
  part: TaskPart;
  vstage: number;
  microBatch: number;
  layerStart: number;
  layerEnd: number;
  label: string;
  opSeq?: OpSeq;
  comm?: CommKind;
  collective?: CollectiveKind;
  bytes: number;
  dtype: TaskDType;
  key?: string;
  peer: number;
  blocksCompute: boolean;
  bucket?: Bucket;
  deps: number[];
}

export function viewTask(g: TaskGraph, p: RankProgram, i: number): TaskView {
  const comm = p.comm[i]!;
  const coll = p.collective[i]!;
  const key = p.key[i]!;
  const bucket = p.bucket[i]!;
  return {
    index: i,
    kind: TASK_KINDS[p.kind[i]!]!,
    stream: STREAMS[p.stream[i]!]!,
    phase: PHASES[p.phase[i]!]!,
    part: PARTS[p.part[i]!]!,
    vstage: p.vstage[i]!,
    microBatch: p.microBatch[i]!,
    layerStart: p.layerStart[i]!,
    layerEnd: p.layerEnd[i]!,
    label: g.labels[p.label[i]!]!,
    opSeq: p.opSeq[i]! >= 0 ? g.opSeqs[p.opSeq[i]!] : undefined,
    comm: comm < COMMS.length ? COMMS[comm] : undefined,
    collective: coll < COLLECTIVES.length ? COLLECTIVES[coll] : undefined,
    bytes: p.bytes[i]!,
    dtype: DTYPES[p.dtype[i]!]!,
    key: key >= 0 ? g.keys[key] : undefined,
    peer: p.peer[i]!,
    blocksCompute: p.blocksCompute[i] === 1,
    bucket: bucket >= 0 ? p.buckets[bucket] : undefined,
    deps: Array.from(p.deps.subarray(p.depStart[i]!, p.depStart[i + 1]!)),
  };
}

/** 255 marks "none" in the Uint8 code fields (comm, collective). */
export const NONE = 255;
