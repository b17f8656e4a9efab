import { MEMORY_CATEGORIES, type RankProgram } from '../../../src/workload/task-graph.js';

/** Memory over time of one program from its events at the given task times: peak total and per category at that peak. */
export function memoryPeak(p: RankProgram, start: Float64Array, finish: Float64Array): { peak: number; atPeak: Record<string, number>; final: number } {
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
  for (const { k } of ev) {
    cur[m.category[k]!]! += m.bytes[k]!;
    total += m.bytes[k]!;
    if (total > peak) {
      peak = total;
      atPeak = Float64Array.from(cur);
    }
  }
  return { peak, atPeak: Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, atPeak[i]!])), final: total };
}
