import { Dictionary, Int32, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { Timeline } from '../sim/executor/executor.js';
import { PARTS, PHASES, STREAMS, TASK_KINDS } from '../workload/task-graph.js';

/**
 * The timeline as an Arrow IPC file: one row per task of every rank, for pandas / Polars / DuckDB.
 * Columns: rank, stream, kind, name, phase, part, micro_batch, start, end (seconds from the start of the
 * step), bytes (communication size, nccl-tests convention), flops (the task's ops, compute only).
 * String columns are dictionary-encoded (Dictionary<Int32, Utf8>).
 */
export function timelineToArrow(t: Timeline): Uint8Array {
  const g = t.graph;
  let rows = 0;
  for (let r = 0; r < g.ranks; r++) rows += g.programs[g.programOfRank[r]!]!.size;
  const seqFlops = g.opSeqs.map((s) => s.ops.reduce((a, op) => a + op.flops, 0));
  const rank = new Int32Array(rows);
  const stream = new Int32Array(rows);
  const kind = new Int32Array(rows);
  const name = new Int32Array(rows);
  const phase = new Int32Array(rows);
  const part = new Int32Array(rows);
  const micro = new Int32Array(rows);
  const start = new Float64Array(rows);
  const end = new Float64Array(rows);
  const bytes = new Float64Array(rows);
  const flops = new Float64Array(rows);
  let row = 0;
  for (let r = 0; r < g.ranks; r++) {
    const p = g.programs[g.programOfRank[r]!]!;
    start.set(t.start[r]!, row);
    end.set(t.end[r]!, row);
    bytes.set(p.bytes, row);
    for (let i = 0; i < p.size; i++, row++) {
      rank[row] = r;
      stream[row] = p.stream[i]!;
      kind[row] = p.kind[i]!;
      name[row] = p.label[i]!;
      phase[row] = p.phase[i]!;
      part[row] = p.part[i]!;
      micro[row] = p.microBatch[i]!;
      flops[row] = p.opSeq[i]! >= 0 ? seqFlops[p.opSeq[i]!]! : 0;
    }
  }
  const table = new Table({
    rank: makeVector(rank),
    stream: dictionary(stream, STREAMS),
    kind: dictionary(kind, TASK_KINDS),
    name: dictionary(name, g.labels),
    phase: dictionary(phase, PHASES),
    part: dictionary(part, PARTS),
    micro_batch: makeVector(micro),
    start: makeVector(start),
    end: makeVector(end),
    bytes: makeVector(bytes),
    flops: makeVector(flops),
  });
  return tableToIPC(table, 'file');
}

function dictionary(indices: Int32Array, values: readonly string[]) {
  const type = new Dictionary(new Utf8(), new Int32());
  return makeVector(makeData({ type, length: indices.length, nullCount: 0, data: indices, dictionary: vectorFromArray([...values], new Utf8()) }));
}
