import type { SimulationSummary } from '../sim/run/summary.js';
import type { StepFloor } from '../sim/bounds/step-floor.js';
import type { Plan } from '../workload/plan-types.js';
import type { Enumeration } from './enumerate.js';
import { planKey } from './enumerate.js';
import type { EvalJob, EvalResult, MemoryVerdict, SimulatedStep } from './evaluate.js';
import { memoryVerdictText, quickMemoryText, simulatedMemoryText } from './memory-text.js';
import type { EvalPool } from './pool.js';
import type { QuickBounder, QuickBounds } from './quick-bounds.js';

/**
 * Branch and bound over the enumerated plans. Every plan gets the quick bounds (quick-bounds.ts); those
 * whose memory bound exceeds the GPU are dropped. The rest are taken in order of their step-time bound;
 * each is built into its task graph, checked against the graph's memory floor and step-time floor
 * (sim/bounds), and simulated unless that floor already reaches the k-th best simulated step time. The
 * search stops when the next quick bound reaches it: no plan left can enter the top k.
 *
 * Determinism: plans go to the workers in rounds of a fixed size, each round's threshold is the k-th best
 * time after the previous round, and results are merged in plan order, so the same inputs give the same
 * answer with any number of workers.
 */
export interface SearchOptions {
  top: number;
  capacityBytes: number;
  /** A plan to simulate whatever its bounds (the run's own plan), to compare with. */
  reference?: Plan;
  /** Plans sent to the workers per round. */
  roundSize?: number;
  onProgress?: (p: SearchProgress) => void;
}

export interface SearchProgress {
  /** Candidates taken so far, and how many in all have a step-time bound under the k-th best so far. */
  done: number;
  total: number;
  simulated: number;
  kthSeconds: number;
}

export interface SimulatedPlan {
  key: string;
  plan: Plan;
  /** The whole-run summary, for every plan that could still rank when it was simulated. */
  summary?: SimulationSummary;
  quickSeconds: number;
  /** Its task graph's step-time floor, when it was computed (a finite threshold to compare with). */
  floor?: StepFloor;
  stepSeconds: number;
  peakBytes: number;
  fits: boolean;
  wallSeconds: number;
  /** The worker that simulated it (it keeps the step for a later summary). */
  worker?: number;
}

export type DropStage = 'quick bound' | 'graph floor' | 'simulated peak';

export interface DroppedPlan {
  key: string;
  stage: DropStage;
  bytes: number;
  reason: string;
}

export interface SearchResult {
  /** Simulated plans that fit, fastest first (ties by plan key). */
  ranked: SimulatedPlan[];
  /** Simulated plans over the GPU's memory (the tracker's peak). */
  overCapacity: SimulatedPlan[];
  reference?: SimulatedPlan | { key: string; dropped: DroppedPlan };
  dropped: DroppedPlan[];
  counts: {
    enumerated: number;
    droppedForMemory: Record<DropStage, number>;
    /** Not simulated: a lower bound on their step time is at least the k-th best simulated time. */
    prunedByQuickBound: number;
    prunedByGraphFloor: number;
    simulated: number;
  };
  kthSeconds: number;
}

interface Candidate {
  key: string;
  plan: Plan;
  quick: QuickBounds;
}

export async function searchPlans(e: Enumeration, bounder: QuickBounder, pool: EvalPool, o: SearchOptions): Promise<SearchResult> {
  const roundSize = o.roundSize ?? 6;
  // The reference plan is simulated first, whatever its bounds, while the bounds of the others are computed.
  const referenceRun = o.reference ? pool.run([{ plan: o.reference, threshold: Infinity, summary: true }]) : undefined;
  const dropped: DroppedPlan[] = [];
  const candidates: Candidate[] = [];
  for (const plan of e.plans) {
    const quick = bounder.bounds(plan);
    const key = planKey(plan);
    if (quick.memory.bytes > o.capacityBytes) {
      dropped.push({ key, stage: 'quick bound', bytes: quick.memory.bytes, reason: quickMemoryText(plan, quick.memory, o.capacityBytes) });
    } else candidates.push({ key, plan, quick });
  }
  candidates.sort((a, b) => a.quick.stepSeconds - b.quick.stepSeconds || cmp(a.key, b.key));

  const simulated: SimulatedPlan[] = [];
  const fitting: number[] = []; // step times of fitting simulated plans, ascending
  let kth = Infinity;
  let prunedByGraphFloor = 0;
  const results = new Map<string, EvalResult>();
  const record = (c: Candidate, r: EvalResult) => {
    if (r.kind === 'memory') dropped.push(floorDrop(c.key, r.memory));
    else if (r.kind === 'pruned') prunedByGraphFloor++;
    else {
      const s = toSimulated(c, r);
      simulated.push(s);
      if (!s.fits) dropped.push({ key: c.key, stage: 'simulated peak', bytes: s.peakBytes, reason: simulatedMemoryText(r.memory) });
      else {
        fitting.splice(lowerBound(fitting, s.stepSeconds), 0, s.stepSeconds);
        if (fitting.length >= o.top) kth = fitting[o.top - 1]!;
      }
    }
  };

  let reference: SearchResult['reference'];
  if (o.reference && referenceRun) {
    const key = planKey(o.reference);
    const [r] = await referenceRun;
    results.set(key, r!);
    const inSpace = candidates.find((c) => c.key === key);
    if (r!.kind === 'memory') reference = { key, dropped: floorDrop(key, r!.memory) };
    else if (r!.kind === 'simulated') reference = toSimulated({ key, plan: o.reference, quick: inSpace?.quick ?? bounder.bounds(o.reference) }, r!);
    if (inSpace) record(inSpace, r!);
  }

  let cursor = 0;
  const total = candidates.length;
  while (cursor < total && candidates[cursor]!.quick.stepSeconds < kth) {
    const batch: Candidate[] = [];
    while (batch.length < roundSize && cursor < total && candidates[cursor]!.quick.stepSeconds < kth) {
      const c = candidates[cursor++]!;
      if (!results.has(c.key)) batch.push(c);
    }
    const jobs: EvalJob[] = batch.map((c) => ({ plan: c.plan, threshold: kth }));
    const out = await pool.run(jobs);
    batch.forEach((c, i) => record(c, out[i]!));
    let under = cursor;
    while (under < total && candidates[under]!.quick.stepSeconds < kth) under++;
    o.onProgress?.({ done: cursor, total: under, simulated: simulated.length, kthSeconds: kth });
  }

  const byTime = (a: SimulatedPlan, b: SimulatedPlan) => a.stepSeconds - b.stepSeconds || cmp(a.key, b.key);
  const droppedForMemory: Record<DropStage, number> = { 'quick bound': 0, 'graph floor': 0, 'simulated peak': 0 };
  for (const d of dropped) droppedForMemory[d.stage]++;
  return {
    ranked: simulated.filter((s) => s.fits).sort(byTime),
    overCapacity: simulated.filter((s) => !s.fits).sort(byTime),
    reference,
    dropped: dropped.sort((a, b) => cmp(a.key, b.key)),
    counts: {
      enumerated: e.plans.length,
      droppedForMemory,
      prunedByQuickBound: total - cursor,
      prunedByGraphFloor,
      simulated: simulated.length,
    },
    kthSeconds: kth,
  };
}

function toSimulated(c: Candidate, r: SimulatedStep & { worker?: number }): SimulatedPlan {
  return {
    key: c.key, plan: c.plan, summary: r.summary, quickSeconds: c.quick.stepSeconds, ...(r.floor ? { floor: r.floor } : {}), stepSeconds: r.stepSeconds,
    peakBytes: r.memory.bytes, fits: r.fits, wallSeconds: r.wallSeconds, worker: r.worker,
  };
}

function floorDrop(key: string, m: MemoryVerdict): DroppedPlan {
  return { key, stage: 'graph floor', bytes: m.bytes, reason: memoryVerdictText(m) };
}

function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
