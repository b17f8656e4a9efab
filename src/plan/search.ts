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
 * whose memory bound exceeds the GPU are dropped. The rest are taken lowest step-time bound first; each
 * is built into its task graph, checked against the graph's memory floor and step-time floor (sim/bounds),
 * and simulated unless that floor already exceeds the k-th best simulated step time. The search ends when
 * the next bound exceeds it: no plan left can enter the top k.
 *
 * Determinism: the workers take plans as they free up, so which plans get simulated along the way depends
 * on timing; the answer does not. The exact top k and the final k-th best time are the same whatever the
 * order, and every count and list reported is read off that final time and each plan's own bounds.
 */
export interface SearchOptions {
  top: number;
  capacityBytes: number;
  /** A plan to simulate whatever its bounds (the run's own plan), to compare with. */
  reference?: Plan;
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
  /** The whole-run summary, for plans that could rank when simulated (the planner adds any top-k one missing). */
  summary?: SimulationSummary;
  quickSeconds: number;
  /** Its task graph's step-time floor, when it was computed (a finite threshold to compare with). */
  floor?: StepFloor;
  stepSeconds: number;
  peakBytes: number;
  fits: boolean;
  wallSeconds: number;
  /** Its peak against the GPU's memory, in words (for plans that do not fit). */
  memoryText: string;
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
    /** Not simulated: a lower bound on their step time exceeds the k-th best simulated time. */
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

/** A plan in the queue under its best bound so far (its graph's floor once refined). */
interface Entry {
  c: Candidate;
  bound: number;
  floor: StepFloor | undefined;
  /** The worker that holds its task graph. */
  worker?: number;
}

/** Inserts in (bound, key) order. */
function insert(queue: Entry[], x: Entry): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const q = queue[mid]!;
    if (q.bound < x.bound || (q.bound === x.bound && q.c.key < x.c.key)) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, x);
}

/** Entries at the front of the queue whose bound is at most `t` (a plan as fast as the k-th may tie it). */
function countUnder(queue: Entry[], t: number): number {
  let n = 0;
  while (n < queue.length && mayReach(queue[n]!.bound, t)) n++;
  return n;
}

/**
 * Whether a plan with this lower bound may be as fast as `t`. The bounds add the same terms as the simulator
 * in another order, so a bound can exceed the step time it bounds by a rounding error (1e-18 s seen): within
 * a relative 1e-9 it may still equal `t`.
 */
function mayReach(bound: number, t: number): boolean {
  return bound <= t * (1 + 1e-9);
}

export async function searchPlans(e: Enumeration, bounder: QuickBounder, pool: EvalPool, o: SearchOptions): Promise<SearchResult> {
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

  // What the search learns about each plan: its graph's floors, then maybe its simulation.
  const floors = new Map<string, { memory?: MemoryVerdict; floor?: StepFloor }>();
  const sims = new Map<string, SimulatedPlan>();
  const fitting: number[] = []; // step times of fitting simulated plans, ascending
  let kth = Infinity;
  const simulate = (c: Candidate, r: EvalResult, floor?: StepFloor) => {
    if (r.kind === 'memory') floors.set(c.key, { memory: r.memory });
    if (r.kind !== 'simulated') return;
    const s = toSimulated(c, floor ? { ...r, floor } : r);
    sims.set(c.key, s);
    if (s.fits) {
      fitting.splice(lowerBound(fitting, s.stepSeconds), 0, s.stepSeconds);
      if (fitting.length >= o.top) kth = fitting[o.top - 1]!;
    }
  };

  let reference: SearchResult['reference'];
  if (o.reference && referenceRun) {
    const key = planKey(o.reference);
    const [r] = await referenceRun;
    const inSpace = candidates.find((c) => c.key === key);
    const c = inSpace ?? { key, plan: o.reference, quick: bounder.bounds(o.reference) };
    if (r!.kind === 'memory') reference = { key, dropped: floorDrop(key, r!.memory) };
    else if (r!.kind === 'simulated') reference = toSimulated(c, r!);
    if (inSpace) simulate(inSpace, r!);
  }

  // Best-first with lazy refinement, on every worker at once: the queue holds each plan under its best
  // bound so far. A plan at the front with only its quick bound gets its task graph's floors (cheap) and
  // goes back in under the floor; a plan at the front under its floor is simulated. Work stops when the
  // front's bound exceeds the k-th best simulated time and nothing is running.
  const queue: Entry[] = candidates.filter((c) => !sims.has(c.key) && !floors.has(c.key)).map((c) => ({ c, bound: c.quick.stepSeconds, floor: undefined }));
  await new Promise<void>((resolve, reject) => {
    let running = 0;
    let failed = false;
    const slots = Math.max(1, pool.workers);
    const pump = () => {
      while (!failed && running < slots && queue.length && mayReach(queue[0]!.bound, kth)) {
        const x = queue.shift()!;
        running++;
        // A simulation's threshold only tells the worker whether to summarize the plan (it may rank).
        const job: EvalJob = x.floor ? { plan: x.c.plan, threshold: kth, checked: true, worker: x.worker } : { plan: x.c.plan, threshold: Infinity, floorOnly: true };
        pool.run([job]).then(([r]) => {
          running--;
          if (r!.kind === 'floor') {
            floors.set(x.c.key, { floor: r!.floor });
            insert(queue, { c: x.c, bound: r!.floor.seconds, floor: r!.floor, worker: r!.worker });
          } else simulate(x.c, r!, x.floor);
          o.onProgress?.({ done: floors.size, total: floors.size + countUnder(queue, kth), simulated: sims.size, kthSeconds: kth });
          pump();
        }, (err: Error) => {
          failed = true;
          reject(err);
        });
      }
      if (running === 0 && !failed) resolve();
    };
    pump();
  });

  // The answer, read off the final k-th best time alone (so it does not depend on what ran in which
  // order): a plan whose quick bound exceeds it was pruned by that bound; of the rest, each was checked
  // against its graph's floors and either dropped for memory, pruned by its step-time floor, or simulated.
  // (A bound equal to it is not pruned: that plan could tie the k-th and win the tie on its key.)
  const simulated: SimulatedPlan[] = [];
  let prunedByQuickBound = 0;
  let prunedByGraphFloor = 0;
  for (const c of candidates) {
    const s = sims.get(c.key);
    const f = floors.get(c.key);
    if (s && s.key === reference?.key) simulated.push(s);
    else if (!mayReach(c.quick.stepSeconds, kth)) prunedByQuickBound++;
    else if (f?.memory) dropped.push(floorDrop(c.key, f.memory));
    else if (!mayReach(f!.floor!.seconds, kth)) prunedByGraphFloor++;
    else simulated.push(s!);
  }
  for (const s of simulated) if (!s.fits) dropped.push({ key: s.key, stage: 'simulated peak', bytes: s.peakBytes, reason: s.memoryText });

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
      prunedByQuickBound,
      prunedByGraphFloor,
      simulated: simulated.length,
    },
    kthSeconds: kth,
  };
}

function toSimulated(c: Candidate, r: SimulatedStep & { worker?: number }): SimulatedPlan {
  return {
    memoryText: simulatedMemoryText(r.memory),
    key: c.key, plan: c.plan, summary: r.summary, quickSeconds: c.quick.stepSeconds, ...(r.floor ? { floor: r.floor } : {}), stepSeconds: r.stepSeconds,
    peakBytes: r.memory.bytes, fits: r.fits, wallSeconds: r.wallSeconds,
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
