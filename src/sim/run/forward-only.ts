import { PHASE, type RankProgram, type TaskGraph } from '../../workload/task-graph.js';

/**
 * The graph of one evaluation iteration, derived from the training step's graph: every rank keeps its
 * forward-phase tasks (forward compute with the loss, the forward TP all-reduces, the activation sends and
 * receives) in their issue order and drops the recompute, backward and optimizer work. This is what
 * DeeperSpeed 0.3.15's `eval_batch` runs: the pipeline's inference schedule over all micro-batches of a
 * global batch, forward only, without the data-parallel gradient collectives.
 * Dependencies on dropped tasks are dropped too: they order forward work after backward work that no longer
 * exists; the forward tasks keep their stream order and their dependencies on each other.
 * Memory events are dropped (evaluation memory is not reported).
 */
export function forwardOnlyGraph(g: TaskGraph): TaskGraph {
  return { ...g, programs: g.programs.map(forwardOnly) };
}

function forwardOnly(p: RankProgram): RankProgram {
  const keep: number[] = [];
  const newIndex = new Int32Array(p.size).fill(-1);
  for (let i = 0; i < p.size; i++) {
    if (p.phase[i] === PHASE.forward) newIndex[i] = keep.push(i) - 1;
  }
  const n = keep.length;
  const depStart = new Int32Array(n + 1);
  const deps: number[] = [];
  keep.forEach((i, k) => {
    for (let d = p.depStart[i]!; d < p.depStart[i + 1]!; d++) {
      const j = newIndex[p.deps[d]!]!;
      if (j >= 0) deps.push(j);
    }
    depStart[k + 1] = deps.length;
  });
  const pick = <A extends { length: number; [i: number]: number }>(a: A, make: (n: number) => A): A => {
    const out = make(n);
    for (let k = 0; k < n; k++) out[k] = a[keep[k]!]!;
    return out;
  };
  const u8 = (a: Uint8Array) => pick(a, (m) => new Uint8Array(m));
  const i32 = (a: Int32Array) => pick(a, (m) => new Int32Array(m));
  return {
    ...p,
    size: n,
    kind: u8(p.kind), stream: u8(p.stream), phase: u8(p.phase), part: u8(p.part),
    vstage: pick(p.vstage, (m) => new Int16Array(m)),
    microBatch: i32(p.microBatch), layerStart: i32(p.layerStart), layerEnd: i32(p.layerEnd),
    opSeq: i32(p.opSeq), label: i32(p.label), comm: u8(p.comm), collective: u8(p.collective),
    bytes: pick(p.bytes, (m) => new Float64Array(m)), dtype: u8(p.dtype), key: i32(p.key),
    peer: pick(p.peer, (m) => new Int8Array(m)), blocksCompute: u8(p.blocksCompute), bucket: i32(p.bucket),
    depStart, deps: Int32Array.from(deps),
    memory: { count: 0, task: new Int32Array(0), atEnd: new Uint8Array(0), category: new Uint8Array(0), bytes: new Float64Array(0) },
  };
}
