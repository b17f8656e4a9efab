import { COMM, KIND, PHASE, STREAM, commMembers, peerRank, type RankProgram } from '../../workload/task-graph.js';
import type { Timeline } from '../executor/executor.js';

/** Where a rank's step time goes, as seen from its compute stream. Every field is seconds. */
export interface TimeBreakdown {
  forward: number;
  recompute: number;
  backward: number;
  /** Step-phase compute: the optimizer and what it needs (unscale, norm, copies). */
  optimizer: number;
  /** Compute stream idle while waiting for a communication that was running: by communicator. */
  exposedTp: number;
  exposedPp: number;
  /** Data-parallel / ZeRO gradient and parameter collectives, with the overflow and norm all-reduces. */
  exposedDp: number;
  /** Compute stream idle while not waiting on a running transfer: pipeline fill/drain, waiting for peers. */
  bubble: number;
  /** Communication running, by kind, and the part of it that overlapped compute (hidden). */
  commTp: number;
  commPp: number;
  commDp: number;
  hiddenTp: number;
  hiddenPp: number;
  hiddenDp: number;
}

export const COMPUTE_FIELDS = ['forward', 'recompute', 'backward', 'optimizer'] as const;
export const IDLE_FIELDS = ['exposedTp', 'exposedPp', 'exposedDp', 'bubble'] as const;

const zero = (): TimeBreakdown => ({
  forward: 0, recompute: 0, backward: 0, optimizer: 0, exposedTp: 0, exposedPp: 0, exposedDp: 0, bubble: 0,
  commTp: 0, commPp: 0, commDp: 0, hiddenTp: 0, hiddenPp: 0, hiddenDp: 0,
});

type CommClass = 'Tp' | 'Pp' | 'Dp';
const commClass = (comm: number): CommClass => (comm === COMM.tp ? 'Tp' : comm === COMM.pipe ? 'Pp' : 'Dp');

/** Per-program lookups the attribution walk needs. */
interface ProgramLookups {
  /** FIFO predecessor of every task on its stream (−1 for the first, and for send/recv). */
  prev: Int32Array;
  /** Communication task of each instance key. */
  taskOfKey: Map<number, number>;
}

function lookups(p: RankProgram): ProgramLookups {
  const prev = new Int32Array(p.size);
  const last = [-1, -1, -1, -1];
  const taskOfKey = new Map<number, number>();
  for (let i = 0; i < p.size; i++) {
    if (p.key[i]! >= 0) taskOfKey.set(p.key[i]!, i);
    // Send and recv are not ordered by their stream (task-graph.ts): only by their dependencies.
    if (p.kind[i] === KIND.send || p.kind[i] === KIND.recv) {
      prev[i] = -1;
      continue;
    }
    const s = p.stream[i]!;
    prev[i] = last[s]!;
    last[s] = i;
  }
  return { prev, taskOfKey };
}

/** Shared state for breaking down several ranks of one timeline. */
export class Attribution {
  private readonly cache = new Map<RankProgram, ProgramLookups>();
  constructor(readonly t: Timeline) {}

  private look(rank: number): { p: RankProgram; l: ProgramLookups } {
    const p = this.t.graph.programs[this.t.graph.programOfRank[rank]!]!;
    let l = this.cache.get(p);
    if (!l) this.cache.set(p, (l = lookups(p)));
    return { p, l };
  }

  /** Latest-ending of a task's stream predecessor and dependencies on its rank (−1 if none). */
  blocker(rank: number, i: number): number {
    const { p, l } = this.look(rank);
    const end = this.t.end[rank]!;
    let best = l.prev[i]!;
    let bestEnd = best >= 0 ? end[best]! : -Infinity;
    for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) {
      const j = p.deps[d]!;
      if (end[j]! > bestEnd) {
        best = j;
        bestEnd = end[j]!;
      }
    }
    return best;
  }

  /** The member of task i's instance that arrived last: (rank, task). */
  lastArrival(rank: number, i: number): [number, number] {
    const g = this.t.graph;
    const { p } = this.look(rank);
    const key = p.key[i]!;
    const peers = p.kind[i] === KIND.collective ? Array.from(commMembers(g, rank, p.comm[i]!)) : [peerRank(g, rank, p.peer[i]!)];
    let best: [number, number] = [rank, i];
    let latest = this.t.ready[rank]![i]!;
    for (const q of peers) {
      const j = this.look(q).l.taskOfKey.get(key);
      if (j !== undefined && this.t.ready[q]![j]! > latest) {
        latest = this.t.ready[q]![j]!;
        best = [q, j];
      }
    }
    return best;
  }

  /**
   * Charges idle time [a, z) of `rank`'s compute stream that waits for task j of rank q:
   * - while that communication ran → exposed communication of its kind;
   * - before it started: if a member was late, follow that member; otherwise follow what held the task up
   *   on its own rank (its stream predecessor or a dependency);
   * - reaching a compute task, or nothing, → bubble (someone was computing; nothing was transferring).
   */
  charge(b: TimeBreakdown, a: number, z: number, q: number, j: number): void {
    const { start, ready } = this.t;
    for (let hops = 0; z > a && j >= 0; hops++) {
      const { p } = this.look(q);
      if (p.kind[j] === KIND.compute || hops > 1e6) break;
      const from = Math.max(a, start[q]![j]!);
      if (z > from) b[`exposed${commClass(p.comm[j]!)}`] += z - from;
      z = Math.min(z, start[q]![j]!);
      if (z <= a) return;
      if (ready[q]![j]! < z) {
        const [q2, j2] = this.lastArrival(q, j);
        if (q2 !== q || j2 !== j) {
          q = q2;
          j = j2;
          continue;
        }
      }
      j = this.blocker(q, j);
    }
    if (z > a) b.bubble += z - a;
  }
}

/**
 * One rank's breakdown. The compute stream is either busy (forward / recompute / backward / optimizer) or
 * idle; the rank's step is [0, step time] and the parts add up to it exactly. An idle interval is charged to
 * what the next compute task waited for, following the chain of waits back in time, across ranks where a
 * collective or transfer waited for a late member (`Attribution.charge`). Time after the rank's last task
 * until the step ends is bubble. Hidden communication is the part of each kind's running time during which
 * the compute stream was busy.
 */
export function rankBreakdown(t: Timeline, rank: number, attribution = new Attribution(t)): TimeBreakdown {
  const g = t.graph;
  const p = g.programs[g.programOfRank[rank]!]!;
  const start = t.start[rank]!;
  const end = t.end[rank]!;
  const b = zero();
  const busy: number[] = []; // compute intervals, flattened [s, e, s, e, ...], in time order

  let cursor = 0;
  let lastEnd = 0;
  let lastTask = -1;
  for (let i = 0; i < p.size; i++) {
    if (end[i]! > lastEnd) {
      lastEnd = end[i]!;
      lastTask = i;
    }
    if (p.stream[i] !== STREAM.compute || p.kind[i] !== KIND.compute) continue;
    if (start[i]! > cursor) attribution.charge(b, cursor, start[i]!, rank, attribution.blocker(rank, i));
    const d = end[i]! - start[i]!;
    const ph = p.phase[i];
    if (ph === PHASE.forward) b.forward += d;
    else if (ph === PHASE.recompute) b.recompute += d;
    else if (ph === PHASE.backward) b.backward += d;
    else b.optimizer += d;
    if (d > 0) busy.push(start[i]!, end[i]!);
    cursor = Math.max(cursor, end[i]!);
  }
  if (lastEnd > cursor) attribution.charge(b, cursor, lastEnd, rank, lastTask);
  if (t.stepTime > Math.max(cursor, lastEnd)) b.bubble += t.stepTime - Math.max(cursor, lastEnd);

  // Communication running by kind (union of intervals) and its overlap with busy compute.
  for (const cls of ['Tp', 'Pp', 'Dp'] as const) {
    const iv: number[][] = [];
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] !== KIND.compute && commClass(p.comm[i]!) === cls && end[i]! > start[i]!) iv.push([start[i]!, end[i]!]);
    }
    iv.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    const merged: number[][] = [];
    for (const x of iv) {
      const top = merged[merged.length - 1];
      if (top && x[0]! <= top[1]!) top[1] = Math.max(top[1]!, x[1]!);
      else merged.push([...x]);
    }
    b[`comm${cls}`] = merged.reduce((acc, [s0, e0]) => acc + e0! - s0!, 0);
    b[`hidden${cls}`] = overlap(merged, busy);
  }
  return b;
}

/** Total overlap of sorted disjoint intervals with sorted disjoint busy intervals (flattened). */
function overlap(iv: number[][], busy: number[]): number {
  let total = 0;
  let k = 0;
  for (const [s, e] of iv) {
    while (k < busy.length && busy[k + 1]! <= s!) k += 2;
    for (let q = k; q < busy.length && busy[q]! < e!; q += 2) total += Math.max(0, Math.min(e!, busy[q + 1]!) - Math.max(s!, busy[q]!));
  }
  return total;
}

export interface StageBreakdown {
  pipe: number;
  ranks: number;
  /** Mean over the stage's ranks. */
  mean: TimeBreakdown;
}

/** Breakdown of every rank, and the mean of each pipeline stage. */
export function stepBreakdown(t: Timeline): { ranks: TimeBreakdown[]; stages: StageBreakdown[] } {
  const g = t.graph;
  const attribution = new Attribution(t);
  const ranks = Array.from({ length: g.ranks }, (_, r) => rankBreakdown(t, r, attribution));
  const stages: StageBreakdown[] = [];
  for (let pipe = 0; pipe < g.plan.pp; pipe++) {
    const mine = ranks.filter((_, r) => g.coords.pipe[r] === pipe);
    const mean = zero();
    for (const b of mine) for (const k of Object.keys(mean) as (keyof TimeBreakdown)[]) mean[k] += b[k] / mine.length;
    stages.push({ pipe, ranks: mine.length, mean });
  }
  return { ranks, stages };
}
