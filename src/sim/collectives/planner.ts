import type { Algorithm, NcclConstants, Protocol } from '../../hardware/nccl-profile.js';
import type { LinkClass, Topology } from '../../hardware/topology.js';
import { compilePath, type FlowPath } from '../network/flow.js';
import { type Channel, distinctChannels, ringChannels, treeChannels } from './channels.js';
import { commLayout, type CommLayout } from './layout.js';
import type { NcclSystem } from './nccl-system.js';
import { type Collective, NcclTuning } from './nccl-tuning.js';

/** The operations nccl-tests times; `send` is one point-to-point message (ranks = [src, dst]). */
export type CollectiveOp = Collective | 'sendrecv' | 'send';

/** What to plan: an operation on a communicator. */
export interface PlanRequest {
  op: CollectiveOp;
  /** The communicator: global GPU indices in rank order. */
  ranks: readonly number[];
  /** nccl-tests' size: the whole buffer (for reduce-scatter and all-gather, all ranks' parts together). */
  bytes: number;
  /** Rank index of the root for broadcast and reduce (default 0). */
  root?: number;
  /** Force an algorithm or protocol instead of NCCL's choice (like NCCL_ALGO / NCCL_PROTO). */
  algorithm?: Algorithm;
  protocol?: Protocol;
}

/** One flow of a collective's schedule: a channel's pipelined pattern, or a point-to-point message. */
export interface PlannedFlow {
  path: FlowPath;
  /** Bytes on the wire per hop (payload / protocol wire efficiency). */
  bytes: number;
  /** Ceiling on the wire rate per hop from NCCL's protocol/algorithm limits, B/s (Infinity: links only). */
  maxRate: number;
  /** Latency charged to this flow alone (point-to-point messages), s. */
  latency: number;
}

export interface CollectivePlan {
  op: CollectiveOp;
  bytes: number;
  nRanks: number;
  nNodes: number;
  algorithm: Algorithm | 'p2p' | 'none';
  protocol: Protocol;
  /** NCCL channels the operation runs on. */
  nChannels: number;
  /** Latency charged once after the data has moved (NCCL's latency term), s. */
  latency: number;
  /** NCCL's own model time for the chosen algorithm and protocol, s (NaN for point-to-point). */
  modelTime: number;
  flows: PlannedFlow[];
  /** Wire bytes the operation puts on links of each class. */
  bytesByClass: Partial<Record<LinkClass, number>>;
}

export interface Communicator {
  layout: CommLayout;
  tuning: NcclTuning;
  channels: Map<string, { path: FlowPath; share: number }[]>;
  /**
   * Plans by variant (the operation, with the root and forced choices when given) and size: a training step
   * repeats the same few many times, so the common case — NCCL's own choice, root 0 — costs no string.
   */
  plans: Map<string, Map<number, CollectivePlan>>;
}

/**
 * NCCL 2.10.3's plan for each operation: the algorithm and protocol its cost model (nccl-tuning.ts) picks, the
 * channels it runs on (channels.ts) as compiled flow paths, each channel's share of the bytes, the protocol's
 * wire bytes and ceilings, and NCCL's latency term. Plans depend only on the topology, the NCCL constants and
 * NCCL's view of the system, never on traffic, so one planner serves every simulation on a machine;
 * communicators and plans are cached and plans are immutable.
 */
export class CollectivePlanner {
  private readonly comms = new Map<string, Communicator>();
  private readonly byArray = new WeakMap<readonly number[], Communicator>();

  constructor(
    readonly topology: Topology,
    readonly nccl: NcclConstants,
    readonly system: NcclSystem,
  ) {}

  /** The communicator's layout and NCCL model (cached per rank list, and per array for callers that reuse one). */
  communicator(ranks: readonly number[]): Communicator {
    const known = this.byArray.get(ranks);
    if (known) return known;
    const key = ranks.join(',');
    let comm = this.comms.get(key);
    if (!comm) {
      const layout = commLayout(this.topology, ranks);
      const tuning = new NcclTuning(layout, this.system, this.nccl, distinctChannels(layout) === 1);
      comm = { layout, tuning, channels: new Map(), plans: new Map() };
      this.comms.set(key, comm);
    }
    if (Object.isFrozen(ranks)) this.byArray.set(ranks, comm);
    return comm;
  }

  /** The schedule of an operation without running it. Plans are immutable and shared between equal requests. */
  plan(req: PlanRequest): CollectivePlan {
    if (!(req.bytes >= 0) || !Number.isFinite(req.bytes)) throw new RangeError(`collective size must be a finite number of bytes >= 0, got ${req.bytes}`);
    if (req.op === 'send' && req.ranks.length !== 2) throw new RangeError('a send needs ranks [src, dst]');
    const comm = this.communicator(req.ranks);
    const variant = !req.root && !req.algorithm && !req.protocol ? req.op : `${req.op}|${req.root ?? 0}|${req.algorithm ?? ''}|${req.protocol ?? ''}`;
    let bySize = comm.plans.get(variant);
    if (!bySize) comm.plans.set(variant, (bySize = new Map()));
    let plan = bySize.get(req.bytes);
    if (!plan) bySize.set(req.bytes, (plan = Object.freeze(this.makePlan(comm, req))));
    return plan;
  }

  private makePlan(comm: Communicator, req: PlanRequest): CollectivePlan {
    const { layout, tuning } = comm;
    const base = { op: req.op, bytes: req.bytes, nRanks: layout.nRanks, nNodes: layout.nNodes };
    if (req.op === 'send' || req.op === 'sendrecv') {
      const pairs: [number, number][] = req.op === 'send' ? [[req.ranks[0]!, req.ranks[1]!]] : layout.nRanks === 1 ? [] : req.ranks.map((g, i) => [g, req.ranks[(i + 1) % req.ranks.length]!]);
      const flows = pairs.map(([s, d]) => this.p2pFlow(s, d, req.bytes));
      return this.finishPlan({ ...base, algorithm: 'p2p', protocol: 'Simple', nChannels: 1, latency: 0, modelTime: NaN, flows });
    }
    if (layout.nRanks === 1) {
      return this.finishPlan({ ...base, algorithm: 'none', protocol: 'Simple', nChannels: 0, latency: 0, modelTime: 0, flows: [] });
    }
    const coll = req.op;
    const choice = tuning.select(coll, req.bytes, { algorithm: req.algorithm, protocol: req.protocol });
    const { algorithm: a, protocol: p } = choice;
    const eff = this.nccl.wireEfficiency[p];
    const cost = tuning.cost(coll, a, p)!;
    // NCCL's model bandwidth bounds LL, LL128 and Tree; Ring/Simple runs as fast as the links allow.
    const ceiling = a === 'tree' ? cost.busBw * tuning.treeCorrection(p, req.bytes) : p === 'Simple' ? Infinity : cost.busBw;
    const factor = hopFactor(coll, a, layout.nRanks);
    const rootGpu = req.ranks[req.root ?? 0];
    if (rootGpu === undefined) throw new RangeError(`root must be a rank index 0..${layout.nRanks - 1}, got ${req.root}`);
    const pattern = a === 'tree' ? 'tree' : coll === 'broadcast' ? 'from-root' : coll === 'reduce' ? 'to-root' : 'ring';
    const channels = this.channels(comm, pattern, pattern === 'from-root' || pattern === 'to-root' ? rootGpu : undefined);
    const flows = channels.map(({ path, share }) => ({
      path,
      bytes: (factor * req.bytes * share) / eff,
      // Per-hop payload rate r relates to bus bandwidth as busBw = r/share (ring) or 2r/share (tree).
      maxRate: (ceiling * share) / (a === 'tree' ? 2 : 1) / eff,
      latency: 0,
    }));
    return this.finishPlan({ ...base, algorithm: a, protocol: p, nChannels: tuning.nChannels, latency: tuning.latency(coll, a, p, req.bytes), modelTime: choice.time, flows });
  }

  /**
   * A point-to-point message: one flow on the route. NCCL has no cost model for p2p in 2.10.3; its latency is
   * taken as one Ring/Simple step over the kind of hop it crosses (base + NVLink, PCI or NET hop latency).
   */
  private p2pFlow(src: number, dst: number, bytes: number): PlannedFlow {
    const topo = this.topology;
    const links = topo.route(src, dst);
    const sameNode = topo.devices[topo.gpus[src]!]!.node === topo.devices[topo.gpus[dst]!]!.node;
    const kind = !sameNode ? 'net' : links.every((l) => topo.links[l]!.cls === 'nvlink') ? 'nvlink' : 'pci';
    const latency = src === dst ? 0 : this.nccl.baseLatency.ring.Simple + this.nccl.hwLatency[kind].ring.Simple;
    return { path: compilePath(links), bytes, maxRate: Infinity, latency };
  }

  private channels(comm: Communicator, pattern: 'ring' | 'from-root' | 'to-root' | 'tree', rootGpu?: number) {
    const key = `${pattern}:${rootGpu ?? ''}`;
    let list = comm.channels.get(key);
    if (!list) {
      const { layout, tuning } = comm;
      const chans: Channel[] = pattern === 'tree' ? treeChannels(layout, tuning.nChannels) : ringChannels(layout, tuning.nChannels, pattern, rootGpu);
      const topo = this.topology;
      list = chans.map(({ hops, share }) => ({ path: compilePath(hops.flatMap(([s, d]) => topo.route(s, d))), share }));
      comm.channels.set(key, list);
    }
    return list;
  }

  private finishPlan(plan: Omit<CollectivePlan, 'bytesByClass'>): CollectivePlan {
    const links = this.topology.links;
    const bytesByClass: Partial<Record<LinkClass, number>> = {};
    for (const f of plan.flows) {
      for (let i = 0; i < f.path.links.length; i++) {
        const cls = links[f.path.links[i]!]!.cls;
        bytesByClass[cls] = (bytesByClass[cls] ?? 0) + f.path.mult[i]! * f.bytes;
      }
    }
    return { ...plan, bytesByClass };
  }
}

/**
 * Bytes each hop of a channel carries per byte of the operation: a ring all-reduce hop 2(p−1)/p (reduce-scatter
 * then all-gather), reduce-scatter and all-gather (p−1)/p, a tree edge or a broadcast/reduce chain hop 1.
 */
function hopFactor(coll: Collective, a: Algorithm, p: number): number {
  if (coll === 'all-reduce') return a === 'ring' ? (2 * (p - 1)) / p : 1;
  return coll === 'reduce-scatter' || coll === 'all-gather' ? (p - 1) / p : 1;
}
