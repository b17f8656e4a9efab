import type { Topology } from '../../hardware/topology.js';
import type { NcclConstants } from '../../hardware/nccl-profile.js';
import type { ComputeOp } from '../../model/ops.js';
import {
  COLLECTIVES, KIND, STREAMS, type OpSeq, type RankProgram, type TaskGraph,
} from '../../workload/task-graph.js';
import { Collectives, type CollectiveRequest, type CollectiveResult } from '../collectives/collectives.js';
import type { NcclSystem } from '../collectives/nccl-system.js';
import { CollectivePlanner } from '../collectives/planner.js';
import type { ComputeModel } from '../compute/compute-model.js';
import { Engine } from '../engine/engine.js';
import { Network } from '../network/network.js';
import { type Instance, InstanceTable } from './instances.js';

/** The machine a task graph runs on. */
export interface Machine {
  topology: Topology;
  compute: ComputeModel;
  nccl: NcclConstants;
  system: NcclSystem;
}

export interface ExecuteOptions {
  /** Seconds a compute task takes; default: the compute model's time of each op of its sequence, summed. */
  computeSeconds?: (seq: OpSeq, index: number) => number;
  /** Communication costs nothing: an instance ends the moment its last member arrives (what-ifs, tests). */
  freeComm?: boolean;
}

/** How one communication instance ran, as the network saw it. */
export interface CommRecord {
  /** First member's (rank, task). */
  rank: number;
  task: number;
  start: number;
  end: number;
  result?: CollectiveResult;
}

/** Start and end of every task of every rank (seconds from the start of the step). */
export interface Timeline {
  graph: TaskGraph;
  start: Float64Array[];
  end: Float64Array[];
  /** When each task was ready on its own rank (stream predecessor and dependencies done); a communication
   * task may start later, when its last member is ready. */
  ready: Float64Array[];
  /** Seconds of each op sequence (compute tasks). */
  seqSeconds: Float64Array;
  /** Seconds of one op on this machine's compute model (for per-kernel detail). */
  opSeconds: (op: ComputeOp) => number;
  /** Time the last task of any rank ends. */
  stepTime: number;
  comms: CommRecord[];
  network?: Network;
  engine: Engine;
}

const WAITING = 1;

/** Per-program lookups the hot loop needs, computed once per program. */
interface ProgramIndex {
  /** Task indices of each stream in issue order, without send/recv (they are not bound to stream order). */
  streamTasks: Int32Array[];
  /** Send/recv tasks that depend on task i: p2pDependents[p2pStart[i] … p2pStart[i+1]). */
  p2pStart: Int32Array;
  p2pDependents: Int32Array;
  /** Unfinished dependencies of each send/recv task at the start of the step. */
  p2pDeps: Int32Array;
  /** Send/recv tasks with no dependencies. */
  p2pRoots: number[];
}

const isP2p = (kind: number) => kind === KIND.send || kind === KIND.recv;

function indexProgram(p: RankProgram): ProgramIndex {
  const counts = new Array<number>(STREAMS.length).fill(0);
  const dependents = new Int32Array(p.size + 1);
  const p2pDeps = new Int32Array(p.size);
  const p2pRoots: number[] = [];
  for (let i = 0; i < p.size; i++) {
    if (!isP2p(p.kind[i]!)) {
      counts[p.stream[i]!]!++;
      continue;
    }
    p2pDeps[i] = p.depStart[i + 1]! - p.depStart[i]!;
    if (p2pDeps[i] === 0) p2pRoots.push(i);
    for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) dependents[p.deps[d]! + 1]!++;
  }
  for (let i = 0; i < p.size; i++) dependents[i + 1]! += dependents[i]!;
  const p2pDependents = new Int32Array(dependents[p.size]!);
  const fillDep = dependents.slice(0, p.size);
  const streamTasks = counts.map((n) => new Int32Array(n));
  const fill = new Array<number>(STREAMS.length).fill(0);
  for (let i = 0; i < p.size; i++) {
    if (isP2p(p.kind[i]!)) {
      for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) p2pDependents[fillDep[p.deps[d]!]!++] = i;
    } else {
      const s = p.stream[i]!;
      streamTasks[s]![fill[s]!++] = i;
    }
  }
  return { streamTasks, p2pStart: dependents, p2pDependents, p2pDeps, p2pRoots };
}

/**
 * Runs one optimizer step of a task graph on the machine and records when every task starts and ends.
 *
 * Semantics (task-graph.ts): per rank, each stream runs its tasks FIFO in issue order; a task starts when its
 * stream predecessor and its dependencies have finished; a collective starts when every member rank has
 * reached it; then it runs on the flow-level network as NCCL would. Send and recv tasks wait for their
 * dependencies only (not for their stream), and a matched pair starts when both sides are ready.
 *
 * Compute tasks do not share anything between ranks, so their times are settled eagerly as soon as their
 * inputs are known (a chain of compute tasks costs one pass, no events); only communication goes through
 * the event engine, where concurrent transfers share links. Every time computed is at or after the
 * engine's clock, so the two views stay consistent. Deterministic: the same graph and machine give the same
 * timeline, bit for bit.
 */
export function execute(graph: TaskGraph, machine: Machine, opts: ExecuteOptions = {}): Timeline {
  const engine = new Engine();
  const network = opts.freeComm ? undefined : new Network(engine, machine.topology);
  const colls = network ? new Collectives(network, machine.nccl, machine.system, plannerOf(machine)) : undefined;
  const computeSeconds = opts.computeSeconds ?? ((seq: OpSeq) => seq.ops.reduce((t, op) => t + machine.compute.time(op), 0));
  const seqSeconds = Float64Array.from(graph.opSeqs, (seq, i) => computeSeconds(seq, i));
  const indexes = graph.programs.map(indexProgram);
  const R = graph.ranks;
  const start: Float64Array[] = [];
  const end: Float64Array[] = [];
  const readyAt: Float64Array[] = [];
  const state: Uint8Array[] = [];
  const pos: Int32Array[] = [];
  const free: Float64Array[] = [];
  const p2pLeft: Int32Array[] = [];
  for (let r = 0; r < R; r++) {
    const p = graph.programs[graph.programOfRank[r]!]!;
    start.push(new Float64Array(p.size).fill(NaN));
    end.push(new Float64Array(p.size).fill(NaN));
    readyAt.push(new Float64Array(p.size).fill(NaN));
    state.push(new Uint8Array(p.size));
    pos.push(new Int32Array(STREAMS.length));
    free.push(new Float64Array(STREAMS.length));
    p2pLeft.push(Int32Array.from(indexes[graph.programOfRank[r]!]!.p2pDeps));
  }
  const table = new InstanceTable(graph);
  const comms: CommRecord[] = [];

  /** A communication task is ready on its rank: register it; launch its instance once complete. */
  const arrive = (rank: number, p: RankProgram, i: number, ready: number): void => {
    readyAt[rank]![i] = ready;
    state[rank]![i] = WAITING;
    const inst = table.arrive(rank, p, i, ready);
    if (inst) engine.schedule(inst.ready, launch, inst);
  };

  /** Task i of `rank` has finished (or its end is settled): post the send/recv tasks waiting only on it. */
  const resolved = (rank: number, i: number): void => {
    const ix = indexes[graph.programOfRank[rank]!]!;
    const stop = ix.p2pStart[i + 1]!;
    if (ix.p2pStart[i] === stop) return;
    const p = graph.programs[graph.programOfRank[rank]!]!;
    const left = p2pLeft[rank]!;
    const e0 = end[rank]!;
    for (let k = ix.p2pStart[i]!; k < stop; k++) {
      const j = ix.p2pDependents[k]!;
      if (--left[j]! > 0) continue;
      let ready = 0;
      for (let d = p.depStart[j]!; d < p.depStart[j + 1]!; d++) ready = Math.max(ready, e0[p.deps[d]!]!);
      arrive(rank, p, j, ready);
    }
  };

  /** Settles every task of `rank` that can start, until none can. */
  const advance = (rank: number): void => {
    const p = graph.programs[graph.programOfRank[rank]!]!;
    const streams = indexes[graph.programOfRank[rank]!]!.streamTasks;
    const s0 = start[rank]!;
    const e0 = end[rank]!;
    const r0 = readyAt[rank]!;
    const st = state[rank]!;
    const at = pos[rank]!;
    const fr = free[rank]!;
    const { kind, depStart, deps, opSeq } = p;
    for (let progress = true; progress; ) {
      progress = false;
      for (let s = 0; s < streams.length; s++) {
        const list = streams[s]!;
        while (at[s]! < list.length) {
          const i = list[at[s]!]!;
          if (st[i] === WAITING) break;
          let ready = fr[s]!;
          let blocked = false;
          for (let d = depStart[i]!; d < depStart[i + 1]!; d++) {
            const e = e0[deps[d]!]!;
            if (e !== e) {
              blocked = true; // NaN: not finished yet
              break;
            }
            if (e > ready) ready = e;
          }
          if (blocked) break;
          r0[i] = ready;
          if (kind[i] === KIND.compute) {
            s0[i] = ready;
            fr[s] = e0[i] = ready + seqSeconds[opSeq[i]!]!;
            at[s]!++;
            resolved(rank, i);
            progress = true;
            continue;
          }
          arrive(rank, p, i, ready);
          break;
        }
      }
    }
  };

  const launch = (inst: Instance): void => {
    const rank = inst.ranks[0]!;
    const task = inst.tasks[0]!;
    const p = graph.programs[graph.programOfRank[rank]!]!;
    checkAgreement(graph, inst);
    const t0 = engine.now;
    const record: CommRecord = { rank, task, start: t0, end: t0 };
    comms.push(record);
    if (!colls || p.bytes[task] === 0) {
      finish(inst, record, t0);
      return;
    }
    const onDone = (r: CollectiveResult) => {
      record.result = r;
      finish(inst, record, engine.now);
    };
    colls.run(request(inst, p, task, onDone));
  };

  const request = (inst: Instance, p: RankProgram, task: number, onDone: (r: CollectiveResult) => void): CollectiveRequest => {
    const bytes = p.bytes[task]!;
    if (inst.comm >= 0) {
      const op = COLLECTIVES[p.collective[task]!];
      if (!op) throw new Error(`collective task ${task} of stage ${p.pipe} has no collective kind`);
      return { op, ranks: groupGpus(inst.comm, inst.group), bytes, root: 0, onDone };
    }
    const pair = pairGpus(inst.src, inst.dst);
    // DeeperSpeed 0.3.15 p2p: dist.broadcast from the sender in a 2-rank group; Megatron-style: NCCL send/recv.
    return graph.plan.p2p === 'sync-broadcast' ? { op: 'broadcast', ranks: pair, bytes, root: 0, onDone } : { op: 'send', ranks: pair, bytes, onDone };
  };

  // GPU lists of communicators, one frozen array each (the collectives cache plans per array).
  const groupCache = graph.groups.map((g) => new Array<readonly number[] | undefined>(g.members.length));
  const groupGpus = (comm: number, group: number): readonly number[] => {
    let gpus = groupCache[comm]![group];
    if (!gpus) groupCache[comm]![group] = gpus = Object.freeze(Array.from(graph.groups[comm]!.members[group]!, (r) => graph.gpuOfRank[r]!));
    return gpus;
  };
  const pairCache = new Map<number, readonly number[]>();
  const pairGpus = (src: number, dst: number): readonly number[] => {
    let gpus = pairCache.get(src * R + dst);
    if (!gpus) pairCache.set(src * R + dst, (gpus = Object.freeze([graph.gpuOfRank[src]!, graph.gpuOfRank[dst]!])));
    return gpus;
  };

  const finish = (inst: Instance, record: CommRecord, t: number): void => {
    record.end = t;
    for (let m = 0; m < inst.count; m++) {
      const r = inst.ranks[m]!;
      const i = inst.tasks[m]!;
      const p = graph.programs[graph.programOfRank[r]!]!;
      start[r]![i] = record.start;
      end[r]![i] = t;
      state[r]![i] = 0;
      if (!isP2p(p.kind[i]!)) {
        const s = p.stream[i]!;
        free[r]![s] = t;
        pos[r]![s]!++;
      }
      resolved(r, i);
    }
    for (let m = 0; m < inst.count; m++) advance(inst.ranks[m]!);
    table.release(inst);
  };

  for (let r = 0; r < R; r++) {
    const p = graph.programs[graph.programOfRank[r]!]!;
    for (const i of indexes[graph.programOfRank[r]!]!.p2pRoots) arrive(r, p, i, 0);
    advance(r);
  }
  engine.run();
  let stepTime = 0;
  for (let r = 0; r < R; r++) {
    const e = end[r]!;
    for (let i = 0; i < e.length; i++) {
      const t = e[i]!;
      if (t !== t) throw new Error(stuckMessage(graph, r, i, table));
      if (t > stepTime) stepTime = t;
    }
  }
  return { graph, start, end, ready: readyAt, seqSeconds, opSeconds: (op) => machine.compute.time(op), stepTime, comms, network, engine };
}

/**
 * One collective planner per machine: plans depend only on the machine, so a step and its evaluation pass, or
 * the plans of a sweep, share communicators and plans instead of building them again for each execution.
 */
function plannerOf(machine: Machine): CollectivePlanner {
  let planner = planners.get(machine);
  if (!planner || planner.topology !== machine.topology || planner.nccl !== machine.nccl || planner.system !== machine.system) {
    planners.set(machine, (planner = new CollectivePlanner(machine.topology, machine.nccl, machine.system)));
  }
  return planner;
}
const planners = new WeakMap<Machine, CollectivePlanner>();

/** Every member of an instance must run the same operation on the same number of bytes. */
function checkAgreement(graph: TaskGraph, inst: Instance): void {
  const first = graph.programs[graph.programOfRank[inst.ranks[0]!]!]!;
  const t0 = inst.tasks[0]!;
  for (let m = 1; m < inst.count; m++) {
    const p = graph.programs[graph.programOfRank[inst.ranks[m]!]!]!;
    const t = inst.tasks[m]!;
    const same = p.bytes[t] === first.bytes[t0] && (p.kind[t] === KIND.collective) === (first.kind[t0] === KIND.collective) && p.collective[t] === first.collective[t0];
    if (!same) {
      throw new Error(`task graph: instance "${graph.keys[first.key[t0]!]}" disagrees between rank ${inst.ranks[0]} (${first.bytes[t0]} B) and rank ${inst.ranks[m]} (${p.bytes[t]} B)`);
    }
  }
}

function stuckMessage(graph: TaskGraph, rank: number, task: number, table: InstanceTable): string {
  const p = graph.programs[graph.programOfRank[rank]!]!;
  const open = table.stuck()[0];
  let waiting = '';
  if (open) {
    const q = graph.programs[graph.programOfRank[open.ranks[0]!]!]!;
    waiting = `; communication "${graph.keys[q.key[open.tasks[0]!]!]}" was reached by rank(s) ${open.ranks.slice(0, open.count).join(', ')} of ${open.expected}`;
  }
  return `task graph deadlock: rank ${rank} never ran task ${task} (${graph.labels[p.label[task]!]})${waiting}`;
}
