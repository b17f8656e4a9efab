import { idealSchedule } from '../../workload/graph-checks.js';
import { COLLECTIVES, COMM, KIND, peerRank, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';
import type { CollectivePlan, CollectiveRequest } from '../collectives/collectives.js';
import { Collectives } from '../collectives/collectives.js';
import { Engine } from '../engine/engine.js';
import type { Machine } from '../executor/executor.js';
import { Network } from '../network/network.js';
import { addLinkBytes, collectiveFloor } from './collective-floor.js';

/**
 * A lower bound on the step time `execute` (executor.ts) gives a task graph on a machine, without running
 * the network. Two bounds, each one the executor cannot beat:
 * - contention-free: the graph's own schedule (workload `idealSchedule`: streams FIFO, dependencies,
 *   rendezvous of collective members and send/recv pairs) with every compute task at the compute model's
 *   time and every communication at its floor alone on the network (`collectiveFloor`, the least over the
 *   stage's ranks, whose instances differ only in placement);
 * - link volume: each link carries every byte the step's collectives and transfers put on it (NCCL's plans,
 *   the ones the executor runs) and no more than its capacity per second;
 * - data-parallel tail: a stage's data-parallel stream is FIFO, so its collectives from any one on start no
 *   earlier than that one does in the contention-free schedule, and all of the stage's data-parallel groups'
 *   bytes for them must then cross the links they share (two GPUs behind one HCA, groups on one trunk) —
 *   one group's floor alone ignores that sharing.
 */
export interface StepFloor {
  /** The largest of the bounds, seconds. */
  seconds: number;
  contentionFree: number;
  linkVolume: { seconds: number; link: string | null };
  /** From some data-parallel task on: when it can start, plus the link volume of the rest across all the stage's groups. */
  dataParallelTail: number;
}

export function stepFloor(graph: TaskGraph, machine: Machine): StepFloor {
  const colls = idleCollectives(machine);
  const capacity = colls.network.capacity;
  const seqSeconds = graph.opSeqs.map((s) => s.ops.reduce((t, op) => t + machine.compute.time(op), 0));
  const gpus = (ranks: ArrayLike<number>) => Object.freeze(Array.from(ranks, (r) => graph.gpuOfRank[r]!));

  // Ranks of each program (stage).
  const ranksOf: number[][] = graph.programs.map(() => []);
  for (let r = 0; r < graph.ranks; r++) ranksOf[graph.programOfRank[r]!]!.push(r);

  /** The request the executor makes for task i of rank r (executor.ts `request`). */
  const request = (p: RankProgram, i: number, r: number): CollectiveRequest => {
    const bytes = p.bytes[i]!;
    if (p.kind[i] === KIND.collective) {
      const groups = graph.groups[p.comm[i]!]!;
      return { op: COLLECTIVES[p.collective[i]!]!, ranks: gpus(groups.members[groups.groupOfRank[r]!]!), bytes, root: 0 };
    }
    const peer = peerRank(graph, r, p.peer[i]!);
    const pair = p.kind[i] === KIND.send ? gpus([r, peer]) : gpus([peer, r]);
    return graph.plan.p2p === 'sync-broadcast' ? { op: 'broadcast', ranks: pair, bytes, root: 0 } : { op: 'send', ranks: pair, bytes };
  };
  const signature = (p: RankProgram, i: number) => `${p.kind[i]}|${p.comm[i]}|${p.collective[i]}|${p.peer[i]}|${p.bytes[i]}`;

  // Durations per program task, and the instances each program owns for the link volume; for each
  // data-parallel task signature, the links all of the stage's groups load with one instance each.
  const linkBytes = new Float64Array(capacity.length);
  const dpLoads = graph.programs.map(() => new Map<string, Map<number, number>>());
  const durations = graph.programs.map((p, pi) => {
    const d = new Float64Array(p.size);
    const counts = new Map<string, { task: number; count: number }>();
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] === KIND.compute) d[i] = seqSeconds[p.opSeq[i]!]!;
      else if (p.bytes[i]! > 0) {
        const sig = signature(p, i);
        const c = counts.get(sig);
        if (c) c.count++;
        else counts.set(sig, { task: i, count: 1 });
      }
    }
    const floorOf = new Map<string, number>();
    for (const [sig, { task, count }] of counts) {
      let least = Infinity;
      for (const r of ranksOf[pi]!) {
        const plan: CollectivePlan = colls.plan(request(p, task, r));
        least = Math.min(least, collectiveFloor(plan, capacity));
        // Each instance once: a collective from its group's first member, a transfer from its sender.
        const owner = p.kind[task] === KIND.collective ? ownsGroup(graph, p.comm[task]!, r) : p.kind[task] === KIND.send;
        if (owner) {
          addLinkBytes(plan, linkBytes, count);
          if (isDp(p, task)) {
            const load = dpLoads[pi]!.get(sig) ?? new Map<number, number>();
            for (const f of plan.flows) f.path.links.forEach((l, k) => load.set(l, (load.get(l) ?? 0) + f.path.mult[k]! * f.bytes));
            dpLoads[pi]!.set(sig, load);
          }
        }
      }
      floorOf.set(sig, least);
    }
    for (let i = 0; i < p.size; i++) if (p.kind[i] !== KIND.compute && p.bytes[i]! > 0) d[i] = floorOf.get(signature(p, i))!;
    return d;
  });
  const index = new Map(graph.programs.map((p, i) => [p, i]));
  const ideal = idealSchedule(graph, (p, i) => durations[index.get(p)!]![i]!);
  const contentionFree = ideal.makespan;

  // Tail: the data-parallel stream runs in issue order, so from any of its tasks on, the rest start no
  // earlier than that task does in the contention-free schedule, and all of the stage's groups' bytes for
  // them must then still cross the links they share. Walking the stream backwards grows the volume.
  let tail = 0;
  graph.programs.forEach((p, pi) => {
    const acc = new Float64Array(capacity.length);
    let volume = 0;
    for (let i = p.size - 1; i >= 0; i--) {
      if (!isDp(p, i)) continue;
      for (const [l, bytes] of dpLoads[pi]!.get(signature(p, i))!) {
        acc[l]! += bytes;
        volume = Math.max(volume, acc[l]! / capacity[l]!);
      }
      tail = Math.max(tail, ideal.start[pi]![i]! + volume);
    }
  });

  let volume = 0;
  let busiest = -1;
  for (let l = 0; l < linkBytes.length; l++) {
    const t = linkBytes[l]! / capacity[l]!;
    if (t > volume) {
      volume = t;
      busiest = l;
    }
  }
  return {
    seconds: Math.max(contentionFree, volume, tail),
    contentionFree,
    linkVolume: { seconds: volume, link: busiest >= 0 ? machine.topology.links[busiest]!.name : null },
    dataParallelTail: tail,
  };
}

/** A data-parallel collective that moves bytes. */
function isDp(p: RankProgram, i: number): boolean {
  return p.kind[i] === KIND.collective && p.comm[i] === COMM.dp && p.bytes[i]! > 0;
}

/**
 * NCCL plans on the machine's idle network, one planner per machine: plans depend only on the topology and
 * NCCL's view of it, and planning never starts a flow.
 */
export function idleCollectives(machine: Machine): Collectives {
  let c = planners.get(machine);
  if (!c) planners.set(machine, (c = new Collectives(new Network(new Engine(), machine.topology), machine.nccl, machine.system)));
  return c;
}
const planners = new WeakMap<Machine, Collectives>();

/** Whether rank r is the first member of its group of communicator kind `comm`. */
function ownsGroup(g: TaskGraph, comm: number, r: number): boolean {
  const groups = g.groups[comm]!;
  return groups.members[groups.groupOfRank[r]!]![0] === r;
}
