import type { Phase } from '../model/ops.js';
import {
  COLLECTIVE, COMM, DTYPE_CODE, KIND, MEM, MEMORY_CATEGORIES, NONE, PART, PHASE, STREAM, type Bucket, type CollectiveKind,
  type CommKind, type MemoryCategory, type ModelChunk, type RankProgram, type TaskDType, type TaskKind, type TaskPart,
} from './task-graph.js';

/** Strings shared by all programs of a graph (labels, instance keys), stored once as integer ids. */
export class Interner {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.ids.set(s, i);
    }
    return i;
  }
}

export interface TaskSpec {
  kind: TaskKind;
  stream: keyof typeof STREAM;
  phase: Phase;
  part: TaskPart;
  label: string;
  vstage?: number;
  mb?: number;
  layers?: readonly [number, number];
  opSeq?: number;
  comm?: CommKind;
  collective?: CollectiveKind;
  bytes?: number;
  dtype?: TaskDType;
  key?: string;
  peer?: number;
  bucket?: number;
  deps?: readonly number[];
}

export interface IssueOptions {
  /** The compute stream waits for this communication (the next compute task depends on it). */
  blocksCompute?: boolean;
  /** The host waits for it (a synchronous call or a `.item()`): every later task depends on it. */
  blocksHost?: boolean;
}

/**
 * Appends the tasks of one program in issue order and freezes them into the contract's typed arrays.
 * It also carries the host's issue semantics: compute tasks wait for communication that blocks the
 * compute stream, and every task issued after a host-blocking call depends on it.
 */
export class ProgramBuilder {
  private readonly kind: number[] = [];
  private readonly stream: number[] = [];
  private readonly phase: number[] = [];
  private readonly part: number[] = [];
  private readonly vstage: number[] = [];
  private readonly mb: number[] = [];
  private readonly layerStart: number[] = [];
  private readonly layerEnd: number[] = [];
  private readonly opSeq: number[] = [];
  private readonly label: number[] = [];
  private readonly comm: number[] = [];
  private readonly collective: number[] = [];
  private readonly bytes: number[] = [];
  private readonly dtype: number[] = [];
  private readonly key: number[] = [];
  private readonly peer: number[] = [];
  private readonly blocks: number[] = [];
  private readonly bucket: number[] = [];
  private readonly deps: number[][] = [];
  private readonly memTask: number[] = [];
  private readonly memAtEnd: number[] = [];
  private readonly memCategory: number[] = [];
  private readonly memBytes: number[] = [];
  private readonly usedKeys = new Set<number>();
  private barrier = -1;
  private computeWaits: number[] = [];
  /** The most recent compute task (what the next communication of its data waits for). */
  lastCompute = -1;

  constructor(readonly pipe: number, private readonly labels: Interner, private readonly keys: Interner) {}

  get size(): number {
    return this.kind.length;
  }

  /** A compute task: waits for the communication blocking the compute stream. */
  compute(spec: Omit<TaskSpec, 'kind' | 'stream'>): number {
    const i = this.add(spec, KIND.compute, STREAM.compute, this.computeWaits);
    this.computeWaits = [];
    this.lastCompute = i;
    return i;
  }

  /** A collective, send or recv. */
  communicate(spec: TaskSpec, opts: IssueOptions = {}): number {
    const i = this.add(spec, KIND[spec.kind], STREAM[spec.stream]);
    this.blocks[i] = opts.blocksCompute || opts.blocksHost ? 1 : 0;
    if (opts.blocksCompute || opts.blocksHost) this.computeWaits.push(i);
    if (opts.blocksHost) this.barrier = i;
    return i;
  }

  /** Makes the next compute task wait for `task` (e.g. an asynchronous recv whose data it consumes). */
  computeWaitsFor(task: number): void {
    this.computeWaits.push(task);
  }

  private add(s: Omit<TaskSpec, 'kind' | 'stream'>, kind: number, stream: number, extraDeps: readonly number[] = []): number {
    const i = this.kind.length;
    const key = s.key === undefined ? -1 : this.keys.id(s.key);
    if (key >= 0) {
      if (this.usedKeys.has(key)) throw new Error(`workload: duplicate instance key "${s.key}" on stage ${this.pipe}`);
      this.usedKeys.add(key);
    }
    this.kind.push(kind);
    this.stream.push(stream);
    this.phase.push(PHASE[s.phase]);
    this.part.push(PART[s.part]);
    this.vstage.push(s.vstage ?? -1);
    this.mb.push(s.mb ?? -1);
    this.layerStart.push(s.layers?.[0] ?? -1);
    this.layerEnd.push(s.layers?.[1] ?? -1);
    this.opSeq.push(s.opSeq ?? -1);
    this.label.push(this.labels.id(s.label));
    this.comm.push(s.comm === undefined ? NONE : COMM[s.comm]);
    this.collective.push(s.collective === undefined ? NONE : COLLECTIVE[s.collective]);
    this.bytes.push(s.bytes ?? 0);
    this.dtype.push(DTYPE_CODE[s.dtype ?? 'fp16']);
    this.key.push(key);
    this.peer.push(s.peer ?? 0);
    this.blocks.push(0);
    this.bucket.push(s.bucket ?? -1);
    const deps: number[] = [];
    if (s.deps) pushDeps(deps, s.deps, i);
    pushDeps(deps, extraDeps, i);
    if (this.barrier >= 0) pushDeps(deps, [this.barrier], i);
    this.deps.push(deps.length > 1 ? deps.sort(ascending) : deps);
    return i;
  }

  /** Allocation (+) or free (−) of `bytes` in `category` at the start or end of `task`. */
  memory(task: number, at: 'start' | 'end', category: MemoryCategory, bytes: number): void {
    if (bytes === 0) return;
    if (!(task >= 0 && task < this.size)) throw new Error(`workload: memory event on task ${task}, which is not an issued task of stage ${this.pipe}`);
    this.memTask.push(task);
    this.memAtEnd.push(at === 'end' ? 1 : 0);
    this.memCategory.push(MEM[category]);
    this.memBytes.push(bytes);
  }

  finish(meta: { staticMemory: Partial<Record<MemoryCategory, number>>; buckets: Bucket[]; chunks: ModelChunk[]; paramsPerRank: number; shardParams: number }): RankProgram {
    const depStart = new Int32Array(this.size + 1);
    for (let i = 0; i < this.size; i++) depStart[i + 1] = depStart[i]! + this.deps[i]!.length;
    const staticMemory = new Float64Array(MEMORY_CATEGORIES.length);
    for (const [c, b] of Object.entries(meta.staticMemory)) staticMemory[MEM[c as MemoryCategory]] = b;
    // Events sorted by task, starts before ends (stable, so issue order within a task is kept).
    const order = this.memTask.map((_, i) => i).sort((a, b) => this.memTask[a]! - this.memTask[b]! || this.memAtEnd[a]! - this.memAtEnd[b]! || a - b);
    const pick = <T extends Int32Array | Uint8Array | Float64Array>(arr: number[], make: (n: number) => T): T => {
      const out = make(order.length);
      order.forEach((j, k) => (out[k] = arr[j]!));
      return out;
    };
    return {
      pipe: this.pipe,
      size: this.size,
      kind: Uint8Array.from(this.kind),
      stream: Uint8Array.from(this.stream),
      phase: Uint8Array.from(this.phase),
      part: Uint8Array.from(this.part),
      vstage: Int16Array.from(this.vstage),
      microBatch: Int32Array.from(this.mb),
      layerStart: Int32Array.from(this.layerStart),
      layerEnd: Int32Array.from(this.layerEnd),
      opSeq: Int32Array.from(this.opSeq),
      label: Int32Array.from(this.label),
      comm: Uint8Array.from(this.comm),
      collective: Uint8Array.from(this.collective),
      bytes: Float64Array.from(this.bytes),
      dtype: Uint8Array.from(this.dtype),
      key: Int32Array.from(this.key),
      peer: Int8Array.from(this.peer),
      blocksCompute: Uint8Array.from(this.blocks),
      bucket: Int32Array.from(this.bucket),
      depStart,
      deps: Int32Array.from(this.deps.flat()),
      memory: {
        count: order.length,
        task: pick(this.memTask, (n) => new Int32Array(n)),
        atEnd: pick(this.memAtEnd, (n) => new Uint8Array(n)),
        category: pick(this.memCategory, (n) => new Uint8Array(n)),
        bytes: pick(this.memBytes, (n) => new Float64Array(n)),
      },
      staticMemory,
      buckets: meta.buckets,
      chunks: meta.chunks,
      paramsPerRank: meta.paramsPerRank,
      shardParams: meta.shardParams,
    };
  }
}

const ascending = (a: number, b: number) => a - b;

/** Appends the not-yet-listed dependencies of task `i` (each must be an earlier task). */
function pushDeps(into: number[], deps: readonly number[], i: number): void {
  for (const d of deps) {
    if (!(d >= 0 && d < i)) throw new Error(`workload: task ${i} depends on ${d}, which is not an earlier task`);
    if (!into.includes(d)) into.push(d);
  }
}
