import type { CollectivePlan } from '../collectives/collectives.js';

/**
 * The least time a communication plan can take on the network the simulator runs it on, whatever else
 * shares the links: every flow of the plan drains no faster than its own ceiling and the slowest link of
 * its path allow (a hop crossed k times carries k times the flow's rate), no link carries more bytes per
 * second than its capacity, and NCCL's latency is added once the data has drained (collectives.ts `run`).
 * These are the limits the max-min network enforces, so a simulated instance never beats this time.
 */
export function collectiveFloor(plan: CollectivePlan, capacity: ArrayLike<number>): number {
  let cached = floors.get(plan);
  if (cached === undefined) floors.set(plan, (cached = floorOf(plan, capacity)));
  return cached;
}

/** Plans are immutable and shared between equal requests (Collectives.plan), so their floors are cached. */
const floors = new WeakMap<CollectivePlan, number>();

function floorOf(plan: CollectivePlan, capacity: ArrayLike<number>): number {
  let drain = 0;
  let ownLatency = 0;
  const perLink = new Map<number, number>();
  for (const f of plan.flows) {
    let rate = f.maxRate;
    for (let i = 0; i < f.path.links.length; i++) {
      const l = f.path.links[i]!;
      const m = f.path.mult[i]!;
      rate = Math.min(rate, capacity[l]! / m);
      perLink.set(l, (perLink.get(l) ?? 0) + m * f.bytes);
    }
    if (f.bytes > 0) drain = Math.max(drain, f.bytes / rate);
    ownLatency = Math.max(ownLatency, (f.bytes > 0 ? f.bytes / rate : 0) + f.latency);
  }
  for (const [l, bytes] of perLink) drain = Math.max(drain, bytes / capacity[l]!);
  return Math.max(drain, ownLatency) + plan.latency;
}

/** Adds `times` × the bytes each link carries for the plan into `into` (indexed by link id). */
export function addLinkBytes(plan: CollectivePlan, into: Float64Array, times = 1): void {
  for (const f of plan.flows) {
    for (let i = 0; i < f.path.links.length; i++) into[f.path.links[i]!]! += times * f.path.mult[i]! * f.bytes;
  }
}
