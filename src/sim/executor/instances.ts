import { COMMS, KIND, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';

/**
 * Matching of communication tasks across ranks. A collective instance is (communicator kind, the rank's
 * group of that kind, key); a point-to-point instance is (sending rank, key). An instance starts when every
 * member has reached its task (its stream head, with its dependencies met).
 */
export interface Instance {
  /** Members expected: the group size, or 2 for a send/recv pair. */
  expected: number;
  /** (rank, task) of every member that has arrived, in arrival order. */
  ranks: number[];
  tasks: number[];
  /** Latest local ready time among arrived members: the instance starts then. */
  ready: number;
  /** Communicator kind (COMMS index) and group index of a collective; −1 for send/recv. */
  comm: number;
  group: number;
  /** For send/recv: the sending rank and the receiving rank. */
  src: number;
  dst: number;
}

export class InstanceTable {
  /** Open instances by owner (a collective's group, a p2p pair's sender) and then by key. */
  private readonly byGroup: Map<number, Instance>[][];
  private readonly bySender: Map<number, Instance>[];
  /** How much the rank index changes per step along the pipe axis (ranks are mixed-radix in `axes`). */
  private readonly pipeStride: number;

  constructor(private readonly graph: TaskGraph) {
    this.byGroup = graph.groups.map((g) => g.members.map(() => new Map()));
    this.bySender = Array.from({ length: graph.ranks }, () => new Map());
    let stride = 1;
    for (let a = graph.axes.length - 1; a >= 0 && graph.axes[a]!.axis !== 'pipe'; a--) stride *= graph.axes[a]!.size;
    this.pipeStride = stride;
  }

  /** peerRank() without allocating: only the pipe coordinate changes. */
  private peer(rank: number, offset: number): number {
    const pp = this.graph.plan.pp;
    const pipe = this.graph.coords.pipe[rank]!;
    const to = (((pipe + offset) % pp) + pp) % pp;
    return rank + (to - pipe) * this.pipeStride;
  }

  /** Registers (rank, task) as arrived at `ready`; returns the instance when its last member arrives. */
  arrive(rank: number, p: RankProgram, task: number, ready: number): Instance | undefined {
    const g = this.graph;
    const key = p.key[task]!;
    if (key < 0) throw new Error(`rank ${rank} task ${task} (${g.labels[p.label[task]!]}): communication task without an instance key`);
    let open: Map<number, Instance>;
    let inst: Instance | undefined;
    if (p.kind[task] === KIND.collective) {
      const comm = p.comm[task]!;
      const groups = g.groups[comm];
      const group = groups ? groups.groupOfRank[rank]! : -1;
      if (!groups || group < 0) throw new Error(`rank ${rank} task ${task} (${g.labels[p.label[task]!]}): rank has no ${COMMS[comm] ?? comm} communicator`);
      open = this.byGroup[comm]![group]!;
      inst = open.get(key);
      if (!inst) open.set(key, (inst = { expected: groups.members[group]!.length, ranks: [], tasks: [], ready, comm, group, src: -1, dst: -1 }));
    } else {
      const peer = this.peer(rank, p.peer[task]!);
      const send = p.kind[task] === KIND.send;
      const src = send ? rank : peer;
      open = this.bySender[src]!;
      inst = open.get(key);
      if (!inst) open.set(key, (inst = { expected: 2, ranks: [], tasks: [], ready, comm: -1, group: -1, src, dst: send ? peer : rank }));
    }
    inst.ranks.push(rank);
    inst.tasks.push(task);
    if (ready > inst.ready) inst.ready = ready;
    if (inst.ranks.length < inst.expected) return undefined;
    open.delete(key);
    return inst;
  }

  /** Instances some member never reached (a deadlock or a graph error), for the error message. */
  stuck(): Instance[] {
    return [...this.byGroup.flat(), ...this.bySender].flatMap((m) => [...m.values()]);
  }
}
