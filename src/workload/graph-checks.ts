import { COMM, COMMS, KIND, peerRank, STREAM, type RankProgram, type TaskGraph } from './task-graph.js';

/**
 * Checks of the task-graph contract that hold for every plan: dependencies point backwards, every collective
 * instance has a task on every member rank with the same operation and size, every send has its recv, and
 * the step completes (no deadlock) when each task takes the time `idealSchedule` gives it.
 */
export function checkGraph(g: TaskGraph): string[] {
  const problems: string[] = [];
  for (const p of g.programs) {
    for (let i = 0; i < p.size; i++) {
      for (let k = p.depStart[i]!; k < p.depStart[i + 1]!; k++) {
        if (!(p.deps[k]! < i && p.deps[k]! >= 0)) problems.push(`stage ${p.pipe} task ${i}: dependency ${p.deps[k]} is not an earlier task`);
      }
    }
  }
  const keyIndex = g.programs.map(indexKeys);
  // Collectives: every group's member programs must all hold the instance, identically.
  for (let c = 0; c < COMMS.length; c++) {
    if (c === COMM.pipe) continue;
    const seen = new Set<string>();
    for (const members of g.groups[c]!.members) {
      const progs = [...new Set(Array.from(members, (r) => g.programOfRank[r]!))].sort((a, b) => a - b);
      const sig = progs.join(',');
      if (seen.has(sig)) continue;
      seen.add(sig);
      for (const pi of progs) {
        const p = g.programs[pi]!;
        for (let i = 0; i < p.size; i++) {
          if (p.kind[i] !== KIND.collective || p.comm[i] !== c) continue;
          for (const qi of progs) {
            const j = keyIndex[qi]!.get(p.key[i]!);
            const q = g.programs[qi]!;
            if (j === undefined) problems.push(`${g.keys[p.key[i]!]}: missing on stage ${qi} (member of the ${COMMS[c]} group of stage ${pi})`);
            else if (q.collective[j] !== p.collective[i] || q.bytes[j] !== p.bytes[i] || q.comm[j] !== c || q.dtype[j] !== p.dtype[i]) {
              problems.push(`${g.keys[p.key[i]!]}: stage ${pi} and stage ${qi} disagree on the operation or its size`);
            }
          }
        }
      }
    }
  }
  // Send/recv pairs, checked from one rank of each stage (every rank of a stage runs the same program).
  for (const p of g.programs) {
    const r = g.programOfRank.indexOf(p.pipe);
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] !== KIND.send && p.kind[i] !== KIND.recv) continue;
      const partner = peerRank(g, r, p.peer[i]!);
      const qi = g.programOfRank[partner]!;
      const j = keyIndex[qi]!.get(p.key[i]!);
      const q = g.programs[qi]!;
      const want = p.kind[i] === KIND.send ? KIND.recv : KIND.send;
      if (j === undefined || q.kind[j] !== want) problems.push(`${g.keys[p.key[i]!]}: stage ${p.pipe} has no matching ${want === KIND.recv ? 'recv' : 'send'} on stage ${qi}`);
      else if (q.bytes[j] !== p.bytes[i] || peerRank(g, partner, q.peer[j]!) !== r) problems.push(`${g.keys[p.key[i]!]}: send and recv disagree on size or partner`);
    }
  }
  if (problems.length === 0) {
    const s = idealSchedule(g, () => 0);
    if (s.unfinished > 0) problems.push(`deadlock: ${s.unfinished} tasks can never start`);
  }
  return problems;
}

function indexKeys(p: RankProgram): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < p.size; i++) if (p.key[i]! >= 0) m.set(p.key[i]!, i);
  return m;
}

export interface IdealSchedule {
  /** Per program, start and finish time of every task. */
  start: Float64Array[];
  finish: Float64Array[];
  makespan: number;
  /** Tasks that never became ready (0 unless the graph deadlocks). */
  unfinished: number;
}

/**
 * Start and finish times with unlimited network and no contention: a task starts when its stream
 * predecessor (send/recv excepted) and its dependencies have finished and, for a collective or a send/recv,
 * when every partner task is ready too; it then takes `duration(program, task)`. Ranks of one stage run the
 * same program in lock-step, so this runs per program. A reference for executors and the tests' timing.
 */
export function idealSchedule(g: TaskGraph, duration: (p: RankProgram, task: number) => number): IdealSchedule {
  const P = g.programs;
  const base: number[] = [];
  let total = 0;
  for (const p of P) {
    base.push(total);
    total += p.size;
  }
  const node = (pi: number, i: number) => base[pi]! + i;
  // Rendezvous partners across programs: same key on other programs (cross-stage collectives, p2p).
  const partners: number[][] = Array.from({ length: total }, () => []);
  const byKey = new Map<number, number[]>();
  P.forEach((p, pi) => {
    for (let i = 0; i < p.size; i++) {
      const crossStage = p.kind[i] === KIND.send || p.kind[i] === KIND.recv || (p.kind[i] === KIND.collective && (p.comm[i] === COMM.mp || p.comm[i] === COMM.world || p.comm[i] === COMM.tied));
      if (!crossStage) continue;
      const list = byKey.get(p.key[i]!) ?? [];
      list.push(node(pi, i));
      byKey.set(p.key[i]!, list);
    }
  });
  for (const list of byKey.values()) for (const n of list) partners[n] = list;
  // Prerequisites: dependencies plus the stream predecessor.
  const pending = new Int32Array(total);
  const succ: number[][] = Array.from({ length: total }, () => []);
  P.forEach((p, pi) => {
    const lastOnStream = new Int32Array(STREAM_COUNT).fill(-1);
    for (let i = 0; i < p.size; i++) {
      const n = node(pi, i);
      const pre = new Set<number>();
      for (let k = p.depStart[i]!; k < p.depStart[i + 1]!; k++) pre.add(p.deps[k]!);
      const p2p = p.kind[i] === KIND.send || p.kind[i] === KIND.recv;
      if (!p2p && lastOnStream[p.stream[i]!]! >= 0) pre.add(lastOnStream[p.stream[i]!]!);
      if (!p2p) lastOnStream[p.stream[i]!] = i;
      pending[n] = pre.size;
      for (const d of pre) succ[node(pi, d)]!.push(n);
    }
  });
  const start = P.map((p) => new Float64Array(p.size).fill(NaN));
  const finish = P.map((p) => new Float64Array(p.size).fill(NaN));
  const readyAt = new Float64Array(total);
  const isReady = new Uint8Array(total);
  const where = (n: number) => {
    let pi = P.length - 1;
    while (base[pi]! > n) pi--;
    return [pi, n - base[pi]!] as const;
  };
  const queue: number[] = [];
  for (let n = 0; n < total; n++) if (pending[n] === 0) queue.push(n);
  let done = 0;
  let makespan = 0;
  for (let qi = 0; qi < queue.length; qi++) {
    const n = queue[qi]!;
    isReady[n] = 1;
    const group = partners[n]!.length > 0 ? partners[n]! : [n];
    if (!group.every((m) => isReady[m])) continue;
    const t0 = Math.max(...group.map((m) => readyAt[m]!));
    for (const m of group) {
      const [pi, i] = where(m);
      if (!Number.isNaN(start[pi]![i]!)) continue;
      start[pi]![i] = t0;
      const t1 = t0 + duration(P[pi]!, i);
      finish[pi]![i] = t1;
      makespan = Math.max(makespan, t1);
      done++;
      for (const s of succ[m]!) {
        readyAt[s] = Math.max(readyAt[s]!, t1);
        if (--pending[s]! === 0) queue.push(s);
      }
    }
  }
  return { start, finish, makespan, unfinished: total - done };
}

const STREAM_COUNT = Object.keys(STREAM).length;
