import type { Timeline } from '../sim/executor/executor.js';
import type { MemorySeries } from '../sim/memory/tracker.js';
import { COLLECTIVES, COMMS, KIND, PARTS, PHASES, STREAMS, TASK_KINDS, peerRank } from '../workload/task-graph.js';

export interface TraceOptions {
  /** Memory over time per rank, shown as a counter track of each GPU. */
  memory?: (MemorySeries | undefined)[];
  /** Ranks whose compute tasks also get one nested slice per kernel (op); large traces otherwise. */
  opsForRanks?: readonly number[];
  /** Node of each GPU, for the process names. */
  nodeOfGpu?: (gpu: number) => number;
}

const us = (s: number) => Math.round(s * 1e9) / 1e3; // seconds → microseconds, ns resolution

/**
 * Chrome trace event format (opens in Perfetto and chrome://tracing): one process per GPU (rank), one thread
 * per stream, a complete ("X") slice per task — compute, collectives, sends and receives — with flow arrows
 * from each send to its receive, and memory as a counter track. Built in chunks, returned as UTF-8 bytes,
 * so traces of thousands of GPUs stay within string limits.
 */
export function timelineToTrace(t: Timeline, o: TraceOptions = {}): Uint8Array {
  const g = t.graph;
  const chunks: Buffer[] = [];
  let lines: string[] = [];
  const emit = (ev: object) => {
    lines.push(JSON.stringify(ev));
    if (lines.length >= 20000) flush();
  };
  const flush = () => {
    if (lines.length) chunks.push(Buffer.from((chunks.length ? ',\n' : '') + lines.join(',\n')));
    lines = [];
  };
  const opsFor = new Set(o.opsForRanks ?? []);
  const flowIds = new Map<string, number>();
  for (let r = 0; r < g.ranks; r++) {
    const gpu = g.gpuOfRank[r]!;
    const node = o.nodeOfGpu ? `, node ${o.nodeOfGpu(gpu)}` : '';
    const name = `rank ${r} (GPU ${gpu}${node}) pipe ${g.coords.pipe[r]} data ${g.coords.data[r]} model ${g.coords.model[r]}`;
    emit({ ph: 'M', name: 'process_name', pid: r, args: { name } });
    emit({ ph: 'M', name: 'process_sort_index', pid: r, args: { sort_index: r } });
    STREAMS.forEach((s, tid) => emit({ ph: 'M', name: 'thread_name', pid: r, tid, args: { name: s } }));
  }
  for (let r = 0; r < g.ranks; r++) {
    const p = g.programs[g.programOfRank[r]!]!;
    const start = t.start[r]!;
    const end = t.end[r]!;
    for (let i = 0; i < p.size; i++) {
      const kind = p.kind[i]!;
      const args: Record<string, unknown> = { phase: PHASES[p.phase[i]!], part: PARTS[p.part[i]!] };
      if (p.microBatch[i]! >= 0) args.microBatch = p.microBatch[i];
      if (p.layerStart[i]! >= 0) args.layers = `${p.layerStart[i]}-${p.layerEnd[i]! - 1}`;
      if (kind === KIND.compute) {
        const seq = g.opSeqs[p.opSeq[i]!]!;
        args.ops = seq.ops.length;
        args.flops = seq.ops.reduce((a, op) => a + op.flops, 0);
      } else {
        args.comm = COMMS[p.comm[i]!];
        if (kind === KIND.collective) args.op = COLLECTIVES[p.collective[i]!];
        args.bytes = p.bytes[i];
        args.waitedSince = us(t.ready[r]![i]!);
      }
      const ts = us(start[i]!);
      emit({ ph: 'X', name: g.labels[p.label[i]!], cat: TASK_KINDS[kind], pid: r, tid: p.stream[i], ts, dur: Math.max(0, us(end[i]!) - ts), args });
      if (kind === KIND.compute && opsFor.has(r)) {
        let at = start[i]!;
        for (const op of g.opSeqs[p.opSeq[i]!]!.ops) {
          const d = t.opSeconds(op);
          emit({ ph: 'X', name: op.name, cat: op.kind, pid: r, tid: p.stream[i], ts: us(at), dur: us(at + d) - us(at), args: { flops: op.flops, bytes: op.bytesRead + op.bytesWritten } });
          at += d;
        }
      }
      if (kind === KIND.send || kind === KIND.recv) {
        const dst = kind === KIND.send ? peerRank(g, r, p.peer[i]!) : r;
        const src = kind === KIND.send ? r : peerRank(g, r, p.peer[i]!);
        const key = `${src}>${dst}:${p.key[i]}`;
        let id = flowIds.get(key);
        if (id === undefined) flowIds.set(key, (id = flowIds.size + 1));
        if (kind === KIND.send) emit({ ph: 's', id, name: 'p2p', cat: 'p2p', pid: r, tid: p.stream[i], ts });
        else emit({ ph: 'f', bp: 'e', id, name: 'p2p', cat: 'p2p', pid: r, tid: p.stream[i], ts: us(end[i]!) });
      }
    }
    const mem = o.memory?.[r];
    if (mem) for (let k = 0; k < mem.time.length; k++) emit({ ph: 'C', name: 'memory', pid: r, ts: us(mem.time[k]!), args: { GB: mem.bytes[k]! / 1e9 } });
  }
  flush();
  const head = Buffer.from(`{"displayTimeUnit":"ms","otherData":${JSON.stringify({ model: g.model, ranks: g.ranks, stepSeconds: t.stepTime })},"traceEvents":[\n`);
  return Buffer.concat([head, ...chunks, Buffer.from('\n]}\n')]);
}
