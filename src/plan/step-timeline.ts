import type { Timeline } from '../sim/executor/executor.js';
import { COMM, KIND, PHASE, STREAM } from '../workload/task-graph.js';

/** What a timeline segment shows: a compute phase, or communication of one kind. */
export type SegmentKind = 'forward' | 'recompute' | 'backward' | 'optimizer' | 'tp' | 'pp' | 'dp';

export interface StepTimeline {
  stepSeconds: number;
  /** One row per GPU of one data-parallel replica (data index 0), by pipeline stage then TP rank. */
  rows: { rank: number; gpu: number; pipe: number; model: number }[];
  /** Per row: compute (lane 0) and communication (lane 1) busy intervals, merged where they touch. */
  segments: { row: number; lane: 0 | 1; kind: SegmentKind; start: number; end: number }[];
}

const PHASE_KIND: SegmentKind[] = [];
PHASE_KIND[PHASE.forward] = 'forward';
PHASE_KIND[PHASE.recompute] = 'recompute';
PHASE_KIND[PHASE.backward] = 'backward';
PHASE_KIND[PHASE.step] = 'optimizer';

/**
 * The step of one data-parallel replica as busy intervals per GPU, for a pipeline chart: compute tasks by
 * phase, communication by kind (TP all-reduces, pipeline transfers, data-parallel / ZeRO collectives).
 * Intervals of the same kind closer than `mergeFraction` of the step are joined, so a chart stays small.
 */
export function stepTimeline(t: Timeline, mergeFraction = 1e-3): StepTimeline {
  const g = t.graph;
  const rows: StepTimeline['rows'] = [];
  for (let r = 0; r < g.ranks; r++) {
    if (g.coords.data[r] === 0) rows.push({ rank: r, gpu: g.gpuOfRank[r]!, pipe: g.coords.pipe[r]!, model: g.coords.model[r]! });
  }
  rows.sort((a, b) => a.pipe - b.pipe || a.model - b.model);
  const gap = mergeFraction * t.stepTime;
  const segments: StepTimeline['segments'] = [];
  rows.forEach(({ rank }, row) => {
    const p = g.programs[g.programOfRank[rank]!]!;
    const open: (StepTimeline['segments'][number] | undefined)[] = [undefined, undefined];
    const items: { lane: 0 | 1; kind: SegmentKind; start: number; end: number }[] = [];
    for (let i = 0; i < p.size; i++) {
      const start = t.start[rank]![i]!;
      const end = t.end[rank]![i]!;
      if (!(end > start)) continue;
      if (p.kind[i] === KIND.compute && p.stream[i] === STREAM.compute) items.push({ lane: 0, kind: PHASE_KIND[p.phase[i]!]!, start, end });
      else if (p.kind[i] !== KIND.compute) {
        const c = p.comm[i]!;
        items.push({ lane: 1, kind: c === COMM.tp ? 'tp' : c === COMM.pipe ? 'pp' : 'dp', start, end });
      }
    }
    items.sort((a, b) => a.lane - b.lane || a.start - b.start || a.end - b.end);
    for (const it of items) {
      const cur = open[it.lane];
      if (cur && cur.kind === it.kind && it.start - cur.end <= gap) {
        cur.end = Math.max(cur.end, it.end);
        continue;
      }
      const seg = { row, ...it };
      segments.push(seg);
      open[it.lane] = seg;
    }
  });
  return { stepSeconds: t.stepTime, rows, segments };
}
