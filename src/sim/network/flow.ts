import type { EventHandle } from '../engine/engine.js';
import type { LinkClass } from '../../hardware/topology.js';

/** What a flow can be limited by: a link of some class, or its own rate ceiling (`maxRate`). */
export type Bound = LinkClass | 'ceiling';
export const BOUNDS: readonly Bound[] = ['nvlink', 'pcie', 'xgmi', 'hca', 'switch-port', 'trunk', 'ceiling'];
export const CEILING = BOUNDS.length - 1;

/** A route in compiled form: its distinct links, ascending, and how many times each is crossed. */
export interface FlowPath {
  readonly links: Int32Array;
  readonly mult: Float64Array;
}

export function compilePath(links: readonly number[]): FlowPath {
  for (const l of links) if (!Number.isInteger(l) || Math.abs(l) > 2 ** 31 - 1) throw new RangeError(`a path holds link ids, got ${l}`);
  const sorted = Int32Array.from(links).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  const ids = new Int32Array(n);
  const mult = new Float64Array(n);
  for (let i = 0, k = -1; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) ids[++k] = sorted[i]!;
    mult[k]!++;
  }
  return { links: ids, mult };
}

/** A transfer to start on the network. */
export interface FlowSpec {
  /**
   * Directed link ids the data crosses. A link may appear several times: a coupled flow (a pipelined ring or
   * tree channel) crosses many hops that all progress at one common rate, and a hop listed k times carries k
   * times the flow's rate. Pass a compiled path to reuse it across many flows.
   */
  links: readonly number[] | FlowPath;
  /** Bytes each hop carries, as they appear on the wire. */
  bytes: number;
  /** Fixed delay added once the data has drained (hop latencies, per-step latencies), seconds. */
  latency?: number;
  /** Upper bound on the per-hop rate, bytes/s (a protocol or per-channel ceiling). */
  maxRate?: number;
  /** Called when the flow has drained and its latency has passed. */
  onDone?: (flow: Flow) => void;
}

/** A flow in progress or finished. Rates are per hop, bytes/s. */
export class Flow {
  /** Distinct links, ascending, and how many times each is crossed. */
  readonly links: Int32Array;
  readonly mult: Float64Array;
  readonly bytes: number;
  readonly latency: number;
  readonly maxRate: number;
  readonly onDone: ((flow: Flow) => void) | undefined;
  /** Bytes still to drain at `updatedAt`. */
  remaining: number;
  rate = 0;
  /** Simulated times: data drained, and done (drained + latency). NaN until they happen. */
  drainedAt = NaN;
  doneAt = NaN;
  /** What bounds the current rate: a link id, CEILING_LINK (own ceiling), or NONE_LINK before the first solve. */
  bottleneck = NONE_LINK;
  /** Seconds spent bound by each entry of BOUNDS. */
  readonly boundTime: number[] = [0, 0, 0, 0, 0, 0, 0];

  // Bookkeeping owned by the network.
  updatedAt: number;
  completion: EventHandle | undefined;
  active = true;
  /** Component-search stamp and solver state. */
  mark = 0;
  frozen = false;

  constructor(
    readonly id: number,
    spec: FlowSpec,
    readonly startedAt: number,
  ) {
    const path = 'mult' in spec.links ? spec.links : compilePath(spec.links);
    this.links = path.links;
    this.mult = path.mult;
    this.bytes = spec.bytes;
    this.latency = spec.latency ?? 0;
    this.maxRate = spec.maxRate ?? Infinity;
    this.onDone = spec.onDone;
    this.remaining = spec.bytes;
    this.updatedAt = startedAt;
  }
}

export const CEILING_LINK = -1;
export const NONE_LINK = -2;
