import { KIND, MEM, STREAM, STREAMS, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';
import { stageReserves, type RuntimeReserve } from '../memory/runtime-reserve.js';

/**
 * A lower bound on the peak memory the tracker (memory/tracker.ts) reports for every rank running a
 * program, whatever the timing: it reads the program's own memory events and counts, at each start and
 * end of a compute-stream task, only what the task graph guarantees has happened by then.
 *
 * "Guaranteed before" is the graph's happens-before order on one rank: dependencies plus FIFO order on
 * each stream. For every task we keep, per stream, how many of that stream's tasks are sure to have
 * finished before it starts (a vector clock; FIFO makes it a count). At compute task i:
 * - counted: static memory, every event of the tasks sure to have finished, i's own start (and end) events;
 * - also counted: every FREE that may already have happened (a task not sure to come after i), because a
 *   free that did happen lowers memory; allocations that may or may not have happened are left out.
 * Send/recv tasks have no stream order (task-graph.ts): one counts as finished once a compute task that
 * depends on it (directly or not) has started — the first such compute task is found by a backward pass.
 * The tracker applies events in (time, issue order), so the prefix of its event order that ends with i's
 * events holds everything counted here plus allocations left out minus nothing it did not subtract: its
 * running total there, and so its peak, is at least this bound.
 */
export interface MemoryFloor {
  /** The bound, bytes. */
  bytes: number;
  /** The compute task where it is reached (−1: static memory alone), and whether after its end events. */
  task: number;
  atEnd: boolean;
  /** The bound by MEMORY_CATEGORIES index (frees that may have happened included). */
  byCategory: Float64Array;
}

const S = STREAMS.length;
const COMPUTE = STREAM.compute;

export function programMemoryFloor(p: RankProgram): MemoryFloor {
  const n = p.size;
  const isP2p = (i: number) => p.kind[i] === KIND.send || p.kind[i] === KIND.recv;
  // Position of each task on its stream (send/recv: −1) and each stream's tasks in order.
  const pos = new Int32Array(n).fill(-1);
  const lists: number[][] = Array.from({ length: S }, () => []);
  const last = new Int32Array(S).fill(-1);
  const prev = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (isP2p(i)) continue;
    const s = p.stream[i]!;
    pos[i] = lists[s]!.length;
    lists[s]!.push(i);
    prev[i] = last[s]!;
    last[s] = i;
  }
  // hb[i·S + s]: tasks of stream s sure to have finished when i starts.
  const hb = new Int32Array(n * S);
  const merge = (i: number, j: number) => {
    for (let s = 0; s < S; s++) if (hb[j * S + s]! > hb[i * S + s]!) hb[i * S + s] = hb[j * S + s]!;
    if (pos[j]! >= 0) {
      const s = p.stream[j]!;
      if (pos[j]! + 1 > hb[i * S + s]!) hb[i * S + s] = pos[j]! + 1;
    }
  };
  for (let i = 0; i < n; i++) {
    if (prev[i]! >= 0) merge(i, prev[i]!);
    for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) merge(i, p.deps[d]!);
  }

  // For send/recv: the first compute-stream position that depends on the task (it has finished by then).
  const firstDependent = firstComputeDependents(p, pos, prev);

  // Event sums per task: all events and frees only, at start and at end.
  const m = p.memory;
  const startAll = new Float64Array(n);
  const endAll = new Float64Array(n);
  const frees = new Float64Array(n);
  for (let e = 0; e < m.count; e++) {
    const t = m.task[e]!;
    const b = m.bytes[e]!;
    if (m.atEnd[e]) endAll[t]! += b;
    else startAll[t]! += b;
    if (b < 0) frees[t]! += b;
  }
  // Per stream, prefix sums over stream order of all events and of frees.
  const allPrefix = lists.map((l) => prefix(l, (t) => startAll[t]! + endAll[t]!));
  const freePrefix = lists.map((l) => prefix(l, (t) => frees[t]!));
  // Tasks of each stream not sure to come after compute task k: a prefix (FIFO), found by a moving cut.
  const cut = new Int32Array(S);
  // Send/recv tasks that may have happened (frees counted) and that surely have (everything counted).
  const p2pMaybe = [...Array(n).keys()].filter(isP2p).sort((a, b) => hb[a * S + COMPUTE]! - hb[b * S + COMPUTE]! || a - b);
  const p2pSure = [...p2pMaybe].sort((a, b) => firstDependent[a]! - firstDependent[b]! || a - b);
  let maybeCut = 0;
  let sureCut = 0;
  let p2pBytes = 0;

  const staticBytes = p.staticMemory.reduce((a, b) => a + b, 0);
  let best = { bytes: staticBytes, task: -1, atEnd: false };
  const computeTasks = lists[COMPUTE]!;
  for (let k = 0; k < computeTasks.length; k++) {
    const i = computeTasks[k]!;
    if (p.kind[i] !== KIND.compute) continue;
    let bytes = staticBytes + allPrefix[COMPUTE]![k]! + startAll[i]!;
    for (let s = 0; s < S; s++) {
      if (s === COMPUTE) continue;
      const list = lists[s]!;
      while (cut[s]! < list.length && hb[list[cut[s]!]! * S + COMPUTE]! <= k) cut[s]!++;
      const done = hb[i * S + s]!;
      bytes += allPrefix[s]![done]! + freePrefix[s]![cut[s]!]! - freePrefix[s]![done]!;
    }
    while (maybeCut < p2pMaybe.length && hb[p2pMaybe[maybeCut]! * S + COMPUTE]! <= k) p2pBytes += frees[p2pMaybe[maybeCut++]!]!;
    while (sureCut < p2pSure.length && firstDependent[p2pSure[sureCut]!]! <= k) {
      const t = p2pSure[sureCut++]!;
      p2pBytes += startAll[t]! + endAll[t]! - frees[t]!;
    }
    bytes += p2pBytes;
    if (bytes > best.bytes) best = { bytes, task: i, atEnd: false };
    if (bytes + endAll[i]! > best.bytes) best = { bytes: bytes + endAll[i]!, task: i, atEnd: true };
  }
  return { ...best, byCategory: composition(p, best.task, best.atEnd, hb, pos, firstDependent, isP2p) };
}

/**
 * The floor of each pipeline stage's program (every rank of a stage runs the same program). With the
 * runtime reserve, each floor adds the largest reserve of the stage's ranks: then it bounds the peak of
 * the stage's fullest GPU, which is what the tracker reports per stage (memory/tracker.ts stageMemory).
 */
export function graphMemoryFloors(g: TaskGraph, reserve?: RuntimeReserve): MemoryFloor[] {
  const extra = reserve ? stageReserves(reserve, g.coords.pipe, g.plan.pp) : undefined;
  return g.programs.map((p) => {
    const f = programMemoryFloor(p);
    if (!extra) return f;
    f.byCategory[MEM.runtime]! += extra[p.pipe]!;
    return { ...f, bytes: f.bytes + extra[p.pipe]! };
  });
}

/**
 * For every task, the lowest compute-stream position of a compute task that depends on it through
 * dependencies and stream order (Infinity if none): a backward pass over the issue order.
 */
function firstComputeDependents(p: RankProgram, pos: Int32Array, prev: Int32Array): Float64Array {
  const n = p.size;
  const first = new Float64Array(n).fill(Infinity);
  for (let i = n - 1; i >= 0; i--) {
    const own = p.stream[i] === COMPUTE && pos[i]! >= 0 ? Math.min(first[i]!, pos[i]!) : first[i]!;
    // i's predecessors are dependended on by i and by everything that depends on i.
    if (prev[i]! >= 0) first[prev[i]!] = Math.min(first[prev[i]!]!, own);
    for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) first[p.deps[d]!] = Math.min(first[p.deps[d]!]!, own);
  }
  return first;
}

function prefix(list: number[], value: (t: number) => number): Float64Array {
  const out = new Float64Array(list.length + 1);
  list.forEach((t, k) => (out[k + 1] = out[k]! + value(t)));
  return out;
}

/** The events the bound counts at (task, atEnd), summed by category. */
function composition(p: RankProgram, i: number, atEnd: boolean, hb: Int32Array, pos: Int32Array, firstDependent: Float64Array, isP2p: (t: number) => boolean): Float64Array {
  const out = Float64Array.from(p.staticMemory);
  if (i < 0) return out;
  const k = pos[i]!;
  const m = p.memory;
  for (let e = 0; e < m.count; e++) {
    const t = m.task[e]!;
    const b = m.bytes[e]!;
    let counted: boolean;
    if (t === i) counted = !m.atEnd[e] || atEnd;
    else if (isP2p(t)) counted = firstDependent[t]! <= k || (b < 0 && hb[t * S + COMPUTE]! <= k);
    else {
      const s = p.stream[t]!;
      const sure = s === COMPUTE ? pos[t]! < k : pos[t]! < hb[i * S + s]!;
      counted = sure || (b < 0 && s !== COMPUTE && hb[t * S + COMPUTE]! <= k);
    }
    if (counted) out[m.category[e]!]! += b;
  }
  return out;
}

