import { COMM, KIND, rankOf, type CommKind, type TaskGraph } from './task-graph.js';

/**
 * The NCCL communicators the training processes create, read off the task graph. Each PyTorch process
 * group becomes its own NCCL communicator the first time a collective runs on it (ProcessGroupNCCL creates
 * them lazily), and each one allocates its own connection buffers — even when two groups hold the same
 * ranks. So a rank has one communicator per group kind its program runs a collective on (TP, DP, the
 * model-parallel slice, the tied-embedding pair), one per pipeline neighbour it sends to or receives from
 * (PyTorch's send/recv and DeeperSpeed's pair-group broadcasts both run on a 2-rank communicator), and the
 * world group: gpt-neox calls torch.distributed.barrier() on it (megatron/checkpointing.py), which the
 * NCCL backend runs as an all-reduce.
 */
export interface Communicator {
  kind: CommKind;
  /** Member ranks in communicator order. */
  ranks: readonly number[];
}

export interface CommunicatorList {
  communicators: Communicator[];
  /** Per rank, the indices of the communicators it belongs to. */
  ofRank: number[][];
}

/** What `graphCommunicators` reads: the rank layout and the programs (a graph, or a smaller one of the same layout). */
export type CommunicatorSource = Pick<TaskGraph, 'ranks' | 'axes' | 'coords' | 'groups' | 'programOfRank' | 'programs'>;

export function graphCommunicators(g: CommunicatorSource): CommunicatorList {
  const communicators: Communicator[] = [];
  const ofRank: number[][] = Array.from({ length: g.ranks }, () => []);
  const add = (kind: CommKind, ranks: readonly number[]) => {
    if (ranks.length < 2) return;
    for (const r of ranks) ofRank[r]!.push(communicators.length);
    communicators.push({ kind, ranks });
  };
  // Group kinds each program runs collectives on, and the pipeline offsets it sends to or receives from.
  const uses = g.programs.map((p) => {
    const kinds = new Set<number>();
    const peers = new Set<number>();
    for (let i = 0; i < p.size; i++) {
      if (p.kind[i] === KIND.collective) kinds.add(p.comm[i]!);
      else if (p.kind[i] === KIND.send || p.kind[i] === KIND.recv) peers.add(p.peer[i]!);
    }
    return { kinds, peers };
  });
  add('world', Array.from({ length: g.ranks }, (_, r) => r));
  for (const kind of ['tp', 'dp', 'mp', 'tied'] as const) {
    const groups = g.groups[COMM[kind]]!;
    groups.members.forEach((members) => {
      if (members.some((r) => uses[g.programOfRank[r]!]!.kinds.has(COMM[kind]))) add(kind, Array.from(members));
    });
  }
  // Pipeline pairs: one 2-rank communicator per pair of ranks that exchange messages (either direction).
  const pp = g.axes.find((a) => a.axis === 'pipe')!.size;
  const pairs = new Set<string>();
  for (let r = 0; r < g.ranks; r++) {
    for (const off of uses[g.programOfRank[r]!]!.peers) {
      const q = rankOf(g, { pipe: (((g.coords.pipe[r]! + off) % pp) + pp) % pp, data: g.coords.data[r]!, model: g.coords.model[r]! });
      const pair = r < q ? [r, q] : [q, r];
      const key = pair.join(',');
      if (q === r || pairs.has(key)) continue;
      pairs.add(key);
      add('pipe', pair);
    }
  }
  return { communicators, ofRank };
}

/** Names of the communicator kinds, for reports. */
export const COMMUNICATOR_WORDS: Record<CommKind, string> = {
  tp: 'tensor-parallel', dp: 'data-parallel', mp: 'model-parallel slice', tied: 'tied embeddings', pipe: 'pipeline pair', world: 'world',
};
