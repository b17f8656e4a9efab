import type { Timeline } from '../sim/executor/executor.js';
import { COMM, KIND, PHASE, STREAM } from '../workload/task-graph.js';

/** What a timeline segment shows: a compute phase, or communication of one kind. */
export type SegmentKind = 'forward' | 'recompute' | 'backward' | 'optimizer' | 'tp' | 'pp' | 'dp';
const KINDS: SegmentKind[] = ['forward', 'recompute', 'backward', 'optimizer', 'tp', 'pp', 'dp'];

export interface StepTimeline {
  stepSeconds: number;
  /** One row per GPU of one data-parallel replica (data index 0), by pipeline stage then TP rank. */
  rows: { rank: number; gpu: number; pipe: number; model: number }[];
  /** Per row: compute (lane 0) and communication (lane 1), as runs of time bins of one kind. */
  segments: { row: number; lane: 0 | 1; kind: SegmentKind; start: number; end: number }[];
}

const PHASE_KIND: Record<number, SegmentKind> = { [PHASE.forward]: 'forward', [PHASE.recompute]: 'recompute', [PHASE.backward]: 'backward', [PHASE.step]: 'optimizer' };

/**
 * The step of one data-parallel replica for a pipeline chart: per GPU, what its compute stream runs (by
 * phase) and what communication runs (TP all-reduces, pipeline transfers, data-parallel / ZeRO collectives),
 * at the resolution of a chart: the step is cut into `bins` equal bins, each shown as the kind that was busy
 * longest in it (if something was busy at least half of it), and equal neighbours are joined. A step has
 * hundreds of thousands of tasks; a chart needs a few hundred rectangles per GPU.
 */
export function stepTimeline(t: Timeline, bins = 800): StepTimeline {
  const g = t.graph;
  const rows: StepTimeline['rows'] = [];
  for (let r = 0; r < g.ranks; r++) {
    if (g.coords.data[r] === 0) rows.push({ rank: r, gpu: g.gpuOfRank[r]!, pipe: g.coords.pipe[r]!, model: g.coords.model[r]! });
  }
  rows.sort((a, b) => a.pipe - b.pipe || a.model - b.model);
  const width = t.stepTime / bins;
  const segments: StepTimeline['segments'] = [];
  rows.forEach(({ rank }, row) => {
    const p = g.programs[g.programOfRank[rank]!]!;
    // busy[lane][bin · kinds + kind]: seconds of that kind in that bin.
    const busy = [new Float64Array(bins * KINDS.length), new Float64Array(bins * KINDS.length)];
    for (let i = 0; i < p.size; i++) {
      const start = t.start[rank]![i]!;
      const end = t.end[rank]![i]!;
      if (!(end > start)) continue;
      let lane: 0 | 1;
      let kind: SegmentKind;
      if (p.kind[i] === KIND.compute) {
        if (p.stream[i] !== STREAM.compute) continue;
        lane = 0;
        kind = PHASE_KIND[p.phase[i]!]!;
      } else {
        lane = 1;
        kind = p.comm[i] === COMM.tp ? 'tp' : p.comm[i] === COMM.pipe ? 'pp' : 'dp';
      }
      const k = KINDS.indexOf(kind);
      for (let b = Math.floor(start / width); b < bins && b * width < end; b++) {
        busy[lane]![b * KINDS.length + k]! += Math.min(end, (b + 1) * width) - Math.max(start, b * width);
      }
    }
    for (const lane of [0, 1] as const) {
      let open: StepTimeline['segments'][number] | undefined;
      for (let b = 0; b < bins; b++) {
        let best = -1;
        let most = 0.5 * width;
        for (let k = 0; k < KINDS.length; k++) {
          const v = busy[lane]![b * KINDS.length + k]!;
          if (v >= most) {
            most = v;
            best = k;
          }
        }
        if (best < 0) {
          open = undefined;
          continue;
        }
        if (open && open.kind === KINDS[best]) open.end = (b + 1) * width;
        else segments.push((open = { row, lane, kind: KINDS[best]!, start: b * width, end: (b + 1) * width }));
      }
    }
  });
  return { stepSeconds: t.stepTime, rows, segments };
}
