import { MEMORY_CATEGORIES, type RankProgram } from '../../../src/workload/task-graph.js';

export interface MemoryProfile {
  peak: number;
  /** Bytes per category at the moment of the peak. */
  atPeak: Record<string, number>;
  /** Each category's own maximum over the step. */
  maxOf: Record<string, number>;
  /** Bytes held after the last event (the static allocations if everything was freed). */
  final: number;
}

/** Memory over time of one program from its events at the given task times. */
export function memoryPeak(p: RankProgram, start: Float64Array, finish: Float64Array): MemoryProfile {
  const m = p.memory;
  const ev = Array.from({ length: m.count }, (_, k) => k).map((k) => ({
    t: m.atEnd[k] ? finish[m.task[k]!]! : start[m.task[k]!]!,
    k,
  }));
  // At equal times, frees before allocations (a buffer released as the next is taken).
  ev.sort((a, b) => a.t - b.t || m.bytes[a.k]! - m.bytes[b.k]! || a.k - b.k);
  const cur = Float64Array.from(p.staticMemory);
  let total = cur.reduce((a, b) => a + b, 0);
  let peak = total;
  let atPeak = Float64Array.from(cur);
  const max = Float64Array.from(cur);
  for (const { k } of ev) {
    const c = m.category[k]!;
    cur[c]! += m.bytes[k]!;
    max[c] = Math.max(max[c]!, cur[c]!);
    total += m.bytes[k]!;
    if (total > peak) {
      peak = total;
      atPeak = Float64Array.from(cur);
    }
  }
  const byName = (a: Float64Array) => Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, a[i]!]));
  return { peak, atPeak: byName(atPeak), maxOf: byName(max), final: total };
}
