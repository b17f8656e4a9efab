import { COMM, COMMS, KIND, peerRank, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';

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
  /** For send/recv: the sending rank and the receiving rank. */
  src: number;
  dst: number;
}

export class InstanceTable {
  private readonly open = new Map<number, Instance>();
  private readonly nKeys: number;
  private readonly maxGroups: number;

  constructor(private readonly graph: TaskGraph) {
    this.nKeys = Math.max(1, graph.keys.length);
    this.maxGroups = Math.max(1, ...graph.groups.map((g) => g.members.length));
  }

  /** Registers (rank, task) as arrived at `ready`; returns the instance when its last member arrives. */
  arrive(rank: number, p: RankProgram, task: number, ready: number): Instance | undefined {
    const g = this.graph;
    const key = p.key[task]!;
    if (key < 0) throw new Error(`rank ${rank} task ${task} (${g.labels[p.label[task]!]}): communication task without an instance key`);
    const kind = p.kind[task]!;
    let id: number;
    let expected: number;
    let src = -1;
    let dst = -1;
    if (kind === KIND.collective) {
      const comm = p.comm[task]!;
      const groups = g.groups[comm];
      if (!groups) throw new Error(`rank ${rank} task ${task}: unknown communicator kind ${comm}`);
      const group = groups.groupOfRank[rank]!;
      id = (comm * this.maxGroups + group) * this.nKeys + key;
      expected = groups.members[group]!.length;
    } else {
      const peer = peerRank(g, rank, p.peer[task]!);
      src = kind === KIND.send ? rank : peer;
      dst = kind === KIND.send ? peer : rank;
      id = (COMMS.length * this.maxGroups + src) * this.nKeys + key;
      expected = 2;
    }
    let inst = this.open.get(id);
    if (!inst) this.open.set(id, (inst = { expected, ranks: [], tasks: [], ready, src, dst }));
    inst.ranks.push(rank);
    inst.tasks.push(task);
    if (ready > inst.ready) inst.ready = ready;
    if (inst.ranks.length < inst.expected) return undefined;
    this.open.delete(id);
    return inst;
  }

  /** Instances some member never reached (a deadlock or a graph error), for the error message. */
  stuck(): Instance[] {
    return [...this.open.values()];
  }
}

export const PIPE = COMM.pipe;
