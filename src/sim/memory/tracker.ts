import { MEM, MEMORY_CATEGORIES, type RankProgram } from '../../workload/task-graph.js';
import type { Timeline } from '../executor/executor.js';
import type { RuntimeReserve } from './runtime-reserve.js';

/** Categories that hold the model states: resident for the whole step whatever the schedule does. */
const STATIC_KIND = new Set<string>(['fp16-params', 'fp16-grads', 'fp32-grads', 'fp32-master', 'adam-m', 'adam-v']);

export interface MemoryPeak {
  rank: number;
  /** Highest total bytes allocated at any instant of the step. */
  peakBytes: number;
  /** When the peak is first reached, seconds. */
  peakTime: number;
  /** Bytes by MEMORY_CATEGORIES index at the peak (static + dynamic). */
  atPeak: Float64Array;
  /** Resident the whole step (`staticMemory`). */
  staticBytes: number;
  /** Model states at the peak (params, grads, master weights, Adam), static or not. */
  modelStateBytes: number;
  /** The runtime reserve (CUDA context, NCCL buffers, cuBLAS workspaces), held the whole step. */
  runtimeBytes: number;
  /** Everything else at the peak: activations, working sets, buffers, logits. */
  activationBytes: number;
  /** The highest each category reaches at any time of the step (not necessarily at the same time). */
  maxByCategory: Float64Array;
}

/** Memory over time: total bytes after each change, for trace counters. */
export interface MemorySeries {
  time: Float64Array;
  bytes: Float64Array;
}

/**
 * Adds up a rank's memory events over simulated time on top of its static memory and its runtime reserve
 * (`runtimeBytes`, category 'runtime'). Events apply at their task's start or end; events at the same
 * instant apply in issue order (the order the builder listed them), so the result does not depend on
 * sorting ties.
 */
export function trackRank(t: Timeline, rank: number, series = false, runtimeBytes = 0): { peak: MemoryPeak; series?: MemorySeries } {
  const g = t.graph;
  const p: RankProgram = g.programs[g.programOfRank[rank]!]!;
  const m = p.memory;
  const when = new Float64Array(m.count);
  const order = new Int32Array(m.count);
  for (let e = 0; e < m.count; e++) {
    const task = m.task[e]!;
    when[e] = m.atEnd[e] ? t.end[rank]![task]! : t.start[rank]![task]!;
    order[e] = e;
  }
  order.sort((a, b) => when[a]! - when[b]! || a - b);
  const cur = Float64Array.from(p.staticMemory);
  cur[MEM.runtime]! += runtimeBytes;
  let total = cur.reduce((a, b) => a + b, 0);
  const staticBytes = total;
  let peakBytes = total;
  let peakTime = 0;
  let atPeak = Float64Array.from(cur);
  const maxByCategory = Float64Array.from(cur);
  const st = series ? { time: new Float64Array(m.count + 1), bytes: new Float64Array(m.count + 1) } : undefined;
  if (st) st.bytes[0] = total;
  for (let k = 0; k < m.count; k++) {
    const e = order[k]!;
    const c = m.category[e]!;
    cur[c]! += m.bytes[e]!;
    if (cur[c]! > maxByCategory[c]!) maxByCategory[c] = cur[c]!;
    total += m.bytes[e]!;
    if (st) {
      st.time[k + 1] = when[e]!;
      st.bytes[k + 1] = total;
    }
    if (total > peakBytes) {
      peakBytes = total;
      peakTime = when[e]!;
      atPeak = Float64Array.from(cur);
    }
  }
  let modelStateBytes = 0;
  MEMORY_CATEGORIES.forEach((c, i) => {
    if (STATIC_KIND.has(c)) modelStateBytes += atPeak[i]!;
  });
  const runtime = atPeak[MEM.runtime]!;
  return { peak: { rank, peakBytes, peakTime, atPeak, staticBytes, modelStateBytes, runtimeBytes: runtime, activationBytes: peakBytes - modelStateBytes - runtime, maxByCategory }, series: st };
}

export interface StageMemory {
  pipe: number;
  /** The rank of the stage with the highest peak (lowest rank on ties). */
  peak: MemoryPeak;
  /** What the peak must fit in: the GPU's usable memory less the allocator headroom (budget.ts). */
  capacityBytes: number;
  fits: boolean;
  /** capacity − peak, bytes (negative when it does not fit). */
  marginBytes: number;
}

/**
 * The highest peak of each pipeline stage, runtime reserve included, against the memory budget. Without a
 * reserve (hand-built graphs in tests) only the tensors count.
 */
export function stageMemory(t: Timeline, capacityBytes: number, reserve?: RuntimeReserve): StageMemory[] {
  const g = t.graph;
  const best = new Map<number, MemoryPeak>();
  for (let r = 0; r < g.ranks; r++) {
    const pipe = g.coords.pipe[r]!;
    const { peak } = trackRank(t, r, false, reserve?.bytes[r] ?? 0);
    const prev = best.get(pipe);
    if (!prev || peak.peakBytes > prev.peakBytes) best.set(pipe, peak);
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([pipe, peak]) => ({
    pipe, peak, capacityBytes, fits: peak.peakBytes <= capacityBytes, marginBytes: capacityBytes - peak.peakBytes,
  }));
}
