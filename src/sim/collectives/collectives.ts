import { BOUNDS, type Bound, type Flow } from '../network/flow.js';
import type { Network } from '../network/network.js';
import type { Engine } from '../engine/engine.js';
import type { NcclConstants } from '../../hardware/nccl-profile.js';
import type { NcclSystem } from './nccl-system.js';
import { type CollectivePlan, CollectivePlanner, type Communicator, type PlanRequest } from './planner.js';

export type { CollectiveOp, CollectivePlan, PlannedFlow, PlanRequest } from './planner.js';

export interface CollectiveRequest extends PlanRequest {
  onDone?: (result: CollectiveResult) => void;
}

export interface CollectiveResult {
  plan: CollectivePlan;
  start: number;
  end: number;
  /** Seconds from start until the last byte drained. */
  dataTime: number;
  /** What held the operation back longest: a link class, a protocol ceiling, or its fixed latency. */
  bottleneck: Bound | 'latency';
}

/**
 * Runs NCCL-2.10.3-style collectives on the congestion-aware network. The algorithm and protocol are chosen
 * by NCCL's own cost model (nccl-tuning.ts); the time comes from the simulated flows of the chosen schedule
 * — one coupled flow per distinct channel, carrying that channel's share — plus NCCL's latency term.
 * Protocols cost their wire overhead on the links (LL moves 2 bytes per data byte, LL128 128 per 120) and
 * are held to NCCL's bandwidth ceilings for LL, LL128 and Tree (GPU-side limits NCCL measured); Ring/Simple
 * is limited by the links alone.
 */
export class Collectives {
  /**
   * `planner` may be shared by every network of one machine (plans never depend on traffic); by default the
   * collectives plan on their own.
   */
  constructor(
    readonly network: Network,
    readonly nccl: NcclConstants,
    readonly system: NcclSystem,
    readonly planner = new CollectivePlanner(network.topology, nccl, system),
  ) {
    if (planner.topology !== network.topology || planner.nccl !== nccl || planner.system !== system) {
      throw new Error('Collectives: the planner was made for another machine');
    }
  }

  /** The communicator's layout and NCCL model (cached per rank list, and per array for callers that reuse one). */
  communicator(ranks: readonly number[]): Communicator {
    return this.planner.communicator(ranks);
  }

  /** The schedule of an operation without running it. Plans are immutable and shared between equal requests. */
  plan(req: PlanRequest): CollectivePlan {
    return this.planner.plan(req);
  }

  /** Starts an operation now; `onDone` gets its result when the last rank is done. Returns its plan. */
  run(req: CollectiveRequest): CollectivePlan {
    const plan = this.plan(req);
    const op = new RunningOp(plan, this.network.engine, req.onDone);
    for (const f of plan.flows) {
      op.flows.push(this.network.start({ links: f.path, bytes: f.bytes, maxRate: f.maxRate, latency: f.latency, onDone: op.flowDone }));
    }
    if (plan.flows.length === 0) this.network.engine.schedule(op.start, drained, op);
    return plan;
  }

  /** One point-to-point message from GPU `src` to GPU `dst`. */
  send(src: number, dst: number, bytes: number, onDone?: (r: CollectiveResult) => void): CollectivePlan {
    return this.run({ op: 'send', ranks: [src, dst], bytes, onDone });
  }
}

/** An operation in progress: its flows, and when the last one is done, its latency term, then the result. */
class RunningOp {
  readonly flows: Flow[] = [];
  readonly start: number;
  private pending: number;
  lastDrain = 0;

  constructor(
    readonly plan: CollectivePlan,
    readonly engine: Engine,
    readonly onDone: ((result: CollectiveResult) => void) | undefined,
  ) {
    this.start = engine.now;
    this.pending = plan.flows.length;
  }

  readonly flowDone = (): void => {
    if (--this.pending === 0) drained(this);
  };
}

/** Every flow is done: NCCL's latency term runs, then the result is reported. */
function drained(op: RunningOp): void {
  let lastDrain = op.start;
  for (const f of op.flows) lastDrain = Math.max(lastDrain, f.drainedAt);
  op.lastDrain = lastDrain;
  op.engine.after(op.plan.latency, report, op);
}

function report(op: RunningOp): void {
  const { plan, start, lastDrain } = op;
  op.onDone?.({ plan, start, end: op.engine.now, dataTime: lastDrain - start, bottleneck: bottleneckOf(plan, op.flows, lastDrain - start) });
}

/** What held an operation back longest: the bound its flows spent most time under, or its fixed latency. */
function bottleneckOf(plan: CollectivePlan, flows: readonly Flow[], dataTime: number): Bound | 'latency' {
  let latency = plan.latency;
  for (const f of plan.flows) latency = Math.max(latency, f.latency);
  let top = -1;
  let most = 0;
  for (let i = 0; i < BOUNDS.length; i++) {
    let t = 0;
    for (const f of flows) t += f.boundTime[i]!;
    if (t > most) {
      most = t;
      top = i;
    }
  }
  return latency >= dataTime || top < 0 ? 'latency' : BOUNDS[top]!;
}
