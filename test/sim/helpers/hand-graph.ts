import {
  COLLECTIVE, COMM, DTYPE_CODE, KIND, NONE, PART, PHASE, STREAM, type CollectiveKind, type CommKind, type MemoryCategory,
  MEM, MEMORY_CATEGORIES, type RankProgram, type TaskGraph, type TaskPart,
} from '../../../src/workload/task-graph.js';
import type { Plan } from '../../../src/workload/plan-types.js';
import type { Phase } from '../../../src/model/ops.js';

/**
 * Tiny task graphs written by hand for executor tests. Every rank gets its own program (rank r is pipeline
 * coordinate r, so a send's `peer` is simply the rank offset); compute tasks carry their duration.
 */
interface Task {
  kind: number;
  stream: number;
  phase: number;
  part: number;
  label: string;
  seconds: number;
  comm: number;
  collective: number;
  bytes: number;
  key: string;
  peer: number;
  deps: number[];
  microBatch: number;
}

export interface TaskOptions {
  deps?: number[];
  stream?: keyof typeof STREAM;
  phase?: Phase;
  part?: TaskPart;
  microBatch?: number;
}

export class HandGraph {
  private readonly tasks: Task[][];
  private readonly memory: { task: number; atEnd: number; category: number; bytes: number }[][];
  private readonly groups = new Map<CommKind, number[][]>();

  constructor(readonly ranks: number, readonly p2p: Plan['p2p'] = 'sync-broadcast') {
    this.tasks = Array.from({ length: ranks }, () => []);
    this.memory = Array.from({ length: ranks }, () => []);
  }

  private add(rank: number, t: Partial<Task> & { label: string }, o: TaskOptions): number {
    const list = this.tasks[rank]!;
    list.push({
      kind: KIND.compute, stream: STREAM[o.stream ?? 'compute'], phase: PHASE[o.phase ?? 'forward'], part: PART[o.part ?? 'layer'],
      seconds: 0, comm: NONE, collective: NONE, bytes: 0, key: '', peer: 0, deps: o.deps ?? [], microBatch: o.microBatch ?? 0, ...t,
    });
    return list.length - 1;
  }

  compute(rank: number, label: string, seconds: number, o: TaskOptions = {}): number {
    return this.add(rank, { label, seconds }, o);
  }

  collective(rank: number, comm: CommKind, op: CollectiveKind, bytes: number, key: string, o: TaskOptions = {}): number {
    return this.add(rank, { label: key, kind: KIND.collective, comm: COMM[comm], collective: COLLECTIVE[op], bytes, key }, { stream: 'tp', ...o });
  }

  send(rank: number, peer: number, bytes: number, key: string, o: TaskOptions = {}): number {
    return this.add(rank, { label: key, kind: KIND.send, comm: COMM.pipe, bytes, key, peer }, { stream: 'pp', ...o });
  }

  recv(rank: number, peer: number, bytes: number, key: string, o: TaskOptions = {}): number {
    return this.add(rank, { label: key, kind: KIND.recv, comm: COMM.pipe, bytes, key, peer }, { stream: 'pp', ...o });
  }

  /** Allocation (+) or free (−) of `bytes` at the start or end of a task. */
  mem(rank: number, task: number, when: 'start' | 'end', category: MemoryCategory, bytes: number): void {
    this.memory[rank]!.push({ task, atEnd: when === 'end' ? 1 : 0, category: MEM[category], bytes });
  }

  group(comm: CommKind, members: number[][]): this {
    this.groups.set(comm, members);
    return this;
  }

  /** The graph, and the duration of each compute task's op sequence (pass as `computeSeconds`). */
  build(staticMemory: Partial<Record<MemoryCategory, number>> = {}): { graph: TaskGraph; computeSeconds: (_: unknown, i: number) => number } {
    const R = this.ranks;
    const labels: string[] = [];
    const keys: string[] = [];
    const intern = (list: string[], s: string) => {
      const i = list.indexOf(s);
      return i >= 0 ? i : list.push(s) - 1;
    };
    const seconds: number[] = [];
    const opSeqs: TaskGraph['opSeqs'] = [];
    const programs: RankProgram[] = this.tasks.map((list, r) => {
      const n = list.length;
      const depStart = new Int32Array(n + 1);
      const deps: number[] = [];
      list.forEach((t, i) => {
        for (const d of t.deps) if (d >= i) throw new Error(`task ${i} of rank ${r} depends on later task ${d}`);
        deps.push(...t.deps);
        depStart[i + 1] = deps.length;
      });
      const mem = this.memory[r]!;
      const stat = new Float64Array(MEMORY_CATEGORIES.length);
      for (const [c, b] of Object.entries(staticMemory)) stat[MEM[c as MemoryCategory]] = b;
      return {
        pipe: r, size: n,
        kind: Uint8Array.from(list, (t) => t.kind),
        stream: Uint8Array.from(list, (t) => t.stream),
        phase: Uint8Array.from(list, (t) => t.phase),
        part: Uint8Array.from(list, (t) => t.part),
        vstage: Int16Array.from(list, () => 0),
        microBatch: Int32Array.from(list, (t) => t.microBatch),
        layerStart: Int32Array.from(list, () => -1),
        layerEnd: Int32Array.from(list, () => -1),
        opSeq: Int32Array.from(list, (t) => {
          if (t.kind !== KIND.compute) return -1;
          seconds.push(t.seconds);
          opSeqs.push({ name: t.label, ops: [] });
          return opSeqs.length - 1;
        }),
        label: Int32Array.from(list, (t) => intern(labels, t.label)),
        comm: Uint8Array.from(list, (t) => t.comm),
        collective: Uint8Array.from(list, (t) => t.collective),
        bytes: Float64Array.from(list, (t) => t.bytes),
        dtype: Uint8Array.from(list, () => DTYPE_CODE.fp16),
        key: Int32Array.from(list, (t) => (t.kind === KIND.compute ? -1 : intern(keys, t.key))),
        peer: Int8Array.from(list, (t) => t.peer),
        blocksCompute: new Uint8Array(n),
        bucket: Int32Array.from(list, () => -1),
        depStart,
        deps: Int32Array.from(deps),
        memory: {
          count: mem.length,
          task: Int32Array.from(mem, (m) => m.task),
          atEnd: Uint8Array.from(mem, (m) => m.atEnd),
          category: Uint8Array.from(mem, (m) => m.category),
          bytes: Float64Array.from(mem, (m) => m.bytes),
        },
        staticMemory: stat,
        buckets: [],
        chunks: [{ vstage: r, pipe: r, firstLayer: 0, endLayer: 0, hasEmbedding: false, hasHead: false, paramsPerRank: 0 }],
        paramsPerRank: 0,
        shardParams: 0,
      };
    });
    const groups = (['tp', 'dp', 'mp', 'tied', 'pipe'] as const).map((c) => {
      const members = this.groups.get(c) ?? [];
      const groupOfRank = new Int32Array(R).fill(-1);
      members.forEach((m, gi) => m.forEach((r) => (groupOfRank[r] = gi)));
      return { groupOfRank, members: members.map((m) => Int32Array.from(m)) };
    });
    const plan: Plan = {
      tp: 1, pp: R, dp: 1, microBatch: 1, gradAccumSteps: 1, seqLength: 1, zeroStage: 0, recompute: 'none',
      schedule: '1f1b', virtualStages: 1, rankOrder: ['pipe', 'data', 'model'], reduceBucketSize: 1, allgatherBucketSize: 1,
      overlapComm: false, precision: 'fp16', p2p: this.p2p, partitionMethod: 'type:transformer|mlp',
      hiddenDropout: 0, attentionDropout: 0,
    } as Plan;
    const graph: TaskGraph = {
      plan, model: 'hand', ranks: R,
      coords: { pipe: Int32Array.from({ length: R }, (_, r) => r), data: new Int32Array(R), model: new Int32Array(R) },
      gpuOfRank: Int32Array.from({ length: R }, (_, r) => r),
      programOfRank: Int32Array.from({ length: R }, (_, r) => r),
      programs, groups, opSeqs, labels, keys,
      chunks: programs.map((p) => p.chunks[0]!),
      axes: [{ axis: 'pipe', size: R }, { axis: 'data', size: 1 }, { axis: 'model', size: 1 }],
    };
    return { graph, computeSeconds: (_: unknown, i: number) => seconds[i]! };
  }
}
