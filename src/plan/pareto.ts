/**
 * The Pareto front of plans under two costs to minimise (step time, peak memory): the plans no other plan
 * beats on both. Ties on both costs keep the first by key, so the front is deterministic.
 */
export function paretoFront<T extends { key: string; stepSeconds: number; peakBytes: number }>(points: T[]): T[] {
  const sorted = [...points].sort((a, b) => a.stepSeconds - b.stepSeconds || a.peakBytes - b.peakBytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const front: T[] = [];
  let least = Infinity;
  for (const p of sorted) {
    if (p.peakBytes < least) {
      front.push(p);
      least = p.peakBytes;
    }
  }
  return front;
}
