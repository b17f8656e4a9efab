import { COMMS, KIND, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';

/**
 * Matching of communication tasks across ranks. A collective instance is (communicator kind, the rank's
 * group of that kind, key); a point-to-point instance is (sending rank, key). An instance starts when every
 * member has reached its task (its stream head, with its dependencies met).
 */
export interface Instance {
  /** Members expected: the group size, or 2 for a send/recv pair. */
  expected: number;
  /** Members arrived so far, and (rank, task) of each in arrival order: entries [0, count) are valid (the
   * arrays are reused when the instance object is recycled, so they may be longer). */
  count: number;
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
  /** Where the open instance is filed: its owner's (rank, task) slot (rank −1: under `name` in a map). */
  ownerRank: number;
  ownerTask: number;
  name: string;
  /** Index in the table's pool, and order of creation (for a stable deadlock report). */
  id: number;
  seq: number;
}

/**
 * Open instances are filed under their owner: the group's first member for a collective whose members all
 * run one program (they then hold the key at the same task index), the sender for a send/recv pair (the
 * receiver finds the send's index once per pair of programs). The slot is a per-rank typed array, so
 * matching allocates nothing and hashes nothing; instances are recycled once they have run. Groups whose
 * members run different programs (the 'mp', 'tied' and 'world' communicators) are matched by key in a map.
 */
export class InstanceTable {
  /** Per rank: 1 + pool index of the open instance its task i owns, 0 if none. */
  private readonly slot: Int32Array[];
  private readonly pool: Instance[] = [];
  private readonly free: number[] = [];
  /** Per communicator kind: whether each group's members all run the same program. */
  private readonly uniform: Uint8Array[];
  /** Instances of mixed-program groups by "comm/group/key", and sends whose recv is missing. */
  private readonly other = new Map<string, Instance>();
  /** Per (program, partner program): index of the matching send of each recv (−1 if none). */
  private readonly sendIndex = new Map<number, Int32Array>();
  /** How much the rank index changes per step along the pipe axis (ranks are mixed-radix in `axes`). */
  private readonly pipeStride: number;
  private seq = 0;

  constructor(private readonly graph: TaskGraph) {
    this.slot = Array.from({ length: graph.ranks }, (_, r) => new Int32Array(this.program(r).size));
    this.uniform = graph.groups.map((g) =>
      Uint8Array.from(g.members, (m) => (m.every((r) => graph.programOfRank[r] === graph.programOfRank[m[0]!]) ? 1 : 0)),
    );
    let stride = 1;
    for (let a = graph.axes.length - 1; a >= 0 && graph.axes[a]!.axis !== 'pipe'; a--) stride *= graph.axes[a]!.size;
    this.pipeStride = stride;
  }

  private program(rank: number): RankProgram {
    return this.graph.programs[this.graph.programOfRank[rank]!]!;
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
    let inst: Instance;
    if (p.kind[task] === KIND.collective) {
      const comm = p.comm[task]!;
      const groups = g.groups[comm];
      const group = groups ? groups.groupOfRank[rank]! : -1;
      if (!groups || group < 0) throw new Error(`rank ${rank} task ${task} (${g.labels[p.label[task]!]}): rank has no ${COMMS[comm] ?? comm} communicator`);
      const members = groups.members[group]!;
      inst = this.uniform[comm]![group]
        ? this.filed(members[0]!, task, members.length, comm, group, -1, -1)
        : this.keyed(`${comm}/${group}/${key}`, members.length, comm, group, -1, -1);
    } else {
      const peer = this.peer(rank, p.peer[task]!);
      if (p.kind[task] === KIND.send) inst = this.filed(rank, task, 2, -1, -1, rank, peer);
      else {
        const at = this.sendIndexOf(g.programOfRank[rank]!, g.programOfRank[peer]!)[task]!;
        inst = at >= 0 ? this.filed(peer, at, 2, -1, -1, peer, rank) : this.keyed(`send/${peer}/${key}`, 2, -1, -1, peer, rank);
      }
    }
    inst.ranks[inst.count] = rank;
    inst.tasks[inst.count] = task;
    inst.count++;
    if (ready > inst.ready) inst.ready = ready;
    if (inst.count < inst.expected) return undefined;
    if (inst.ownerRank >= 0) this.slot[inst.ownerRank]![inst.ownerTask] = 0;
    else this.other.delete(inst.name);
    return inst;
  }

  /** An instance that has run: its object is reused for a later one. */
  release(inst: Instance): void {
    inst.count = 0;
    this.free.push(inst.id);
  }

  /** Instances some member never reached (a deadlock or a graph error), for the error message. */
  stuck(): Instance[] {
    const open = new Set(this.pool);
    for (const i of this.free) open.delete(this.pool[i]!);
    const list = [...open, ...this.other.values()].filter((x) => x.count > 0);
    // Collectives by (communicator, group), then pairs by sender; each in the order they were opened.
    return list.sort((a, b) => (a.comm < 0 ? 1 : 0) - (b.comm < 0 ? 1 : 0) || a.comm - b.comm || a.group - b.group || a.src - b.src || a.seq - b.seq);
  }

  /** The open instance filed at (owner, task), created on first arrival. */
  private filed(owner: number, task: number, expected: number, comm: number, group: number, src: number, dst: number): Instance {
    const slots = this.slot[owner]!;
    const at = slots[task]!;
    if (at > 0) return this.pool[at - 1]!;
    const inst = this.open(expected, comm, group, src, dst);
    inst.ownerRank = owner;
    inst.ownerTask = task;
    slots[task] = 1 + inst.id;
    return inst;
  }

  private keyed(name: string, expected: number, comm: number, group: number, src: number, dst: number): Instance {
    let inst = this.other.get(name);
    if (!inst) {
      this.other.set(name, (inst = this.open(expected, comm, group, src, dst)));
      inst.ownerRank = -1;
      inst.name = name;
    }
    return inst;
  }

  private open(expected: number, comm: number, group: number, src: number, dst: number): Instance {
    const i = this.free.pop();
    let inst: Instance;
    if (i !== undefined) inst = this.pool[i]!;
    else {
      inst = { expected, count: 0, ranks: [], tasks: [], ready: 0, comm, group, src, dst, ownerRank: -1, ownerTask: -1, name: '', id: this.pool.length, seq: 0 };
      this.pool.push(inst);
    }
    inst.expected = expected;
    inst.ready = -Infinity;
    inst.comm = comm;
    inst.group = group;
    inst.src = src;
    inst.dst = dst;
    inst.seq = this.seq++;
    return inst;
  }

  /** For each recv of program pi, the index of its send in program qi (−1 if there is none). */
  private sendIndexOf(pi: number, qi: number): Int32Array {
    const g = this.graph;
    const id = pi * g.programs.length + qi;
    let index = this.sendIndex.get(id);
    if (!index) {
      const p = g.programs[pi]!;
      const q = g.programs[qi]!;
      const sendOfKey = new Map<number, number>();
      for (let i = 0; i < q.size; i++) if (q.kind[i] === KIND.send) sendOfKey.set(q.key[i]!, i);
      index = new Int32Array(p.size).fill(-1);
      for (let i = 0; i < p.size; i++) if (p.kind[i] === KIND.recv) index[i] = sendOfKey.get(p.key[i]!) ?? -1;
      this.sendIndex.set(id, index);
    }
    return index;
  }
}
