import type { Engine } from '../engine/engine.js';
import type { Topology } from '../../hardware/topology.js';
import { BOUNDS, CEILING, CEILING_LINK, Flow, type FlowSpec } from './flow.js';
import { MaxMinSolver } from './max-min.js';

/**
 * The flow-level network: every directed link of the topology with its capacity; flows share links by
 * max-min fairness. Rates are recomputed only when flows start or finish, only for the connected component
 * of links and flows the change touches, and once per instant however many changes that instant brings.
 */
export class Network {
  readonly capacity: Float64Array;
  /** Bytes each link has carried, and seconds it carried anything (both up to `flush()`). */
  readonly linkBytes: Float64Array;
  readonly linkBusy: Float64Array;
  /** Number of rate solves so far and flows they touched — the cost of a simulation. */
  solves = 0;
  solvedFlows = 0;

  private readonly load: Float64Array;
  private readonly linkUpdatedAt: Float64Array;
  private readonly linkMark: Uint32Array;
  private readonly onLink: Flow[][];
  private readonly boundOfLink: Uint8Array;
  private readonly solver: MaxMinSolver;
  /** Links changed since the last recompute (a stack: the component search continues on it). */
  private dirty = new Int32Array(256);
  private nDirty = 0;
  /** Scratch reused by every recompute: the component's links and flows, and the flows' rates before. */
  private readonly compLinks: number[] = [];
  private readonly compFlows: Flow[] = [];
  private before = new Float64Array(64);
  private recomputeQueued = false;
  private epoch = 0;
  private nextId = 0;
  private active = 0;

  constructor(
    readonly engine: Engine,
    readonly topology: Topology,
  ) {
    const n = topology.links.length;
    this.capacity = new Float64Array(n);
    for (const link of topology.links) {
      if (!(link.bandwidth > 0)) throw new RangeError(`link ${link.name}: bandwidth must be > 0, got ${link.bandwidth}`);
      this.capacity[link.id] = link.bandwidth;
    }
    this.linkBytes = new Float64Array(n);
    this.linkBusy = new Float64Array(n);
    this.load = new Float64Array(n);
    this.linkUpdatedAt = new Float64Array(n);
    this.linkMark = new Uint32Array(n);
    this.onLink = Array.from({ length: n }, () => []);
    this.boundOfLink = Uint8Array.from(topology.links, (l) => BOUNDS.indexOf(l.cls));
    this.solver = new MaxMinSolver(this.capacity);
  }

  /** Flows currently moving data. */
  get activeFlows(): number {
    return this.active;
  }

  /** Sum of the hop latencies of a route (cut-through: each hop's latency counts once per message). */
  routeLatency(links: readonly number[]): number {
    let s = 0;
    for (const l of links) s += this.topology.links[l]!.latency;
    return s;
  }

  /** A point-to-point message from GPU `src` to GPU `dst` along the topology's route. */
  send(src: number, dst: number, bytes: number, onDone?: (f: Flow) => void): Flow {
    const links = this.topology.route(src, dst);
    return this.start({ links, bytes, latency: this.routeLatency(links), onDone });
  }

  /** Starts a flow now. Its rate is set, with every other change of this instant, before time moves on. */
  start(spec: FlowSpec): Flow {
    if (!(spec.bytes >= 0) || !Number.isFinite(spec.bytes)) throw new RangeError(`flow bytes must be a finite number >= 0, got ${spec.bytes}`);
    const f = new Flow(this.nextId++, spec, this.engine.now);
    for (const l of f.links) {
      if (!(l >= 0 && l < this.capacity.length)) throw new RangeError(`flow crosses unknown link ${l}`);
    }
    if (f.bytes === 0 || f.links.length === 0) {
      // Nothing to share: the data is there at once (a same-GPU "transfer" or an empty message).
      f.active = false;
      f.remaining = 0;
      this.engine.schedule(this.engine.now, this.finishAction, f);
      return f;
    }
    this.active++;
    for (const l of f.links) {
      this.onLink[l]!.push(f);
      this.touch(l);
    }
    return f;
  }

  /** Brings the per-link byte and busy-time counters up to the current time. */
  flush(): void {
    const now = this.engine.now;
    for (let l = 0; l < this.load.length; l++) this.settleLink(l, now);
  }

  /** Link utilisation over [0, now]: bytes carried / (capacity · now). */
  utilisation(link: number): number {
    const now = this.engine.now;
    this.settleLink(link, now);
    return now > 0 ? this.linkBytes[link]! / (this.capacity[link]! * now) : 0;
  }

  private touch(link: number): void {
    this.pushDirty(link);
    if (!this.recomputeQueued) {
      this.recomputeQueued = true;
      this.engine.scheduleLate(this.engine.now, this.recomputeNow);
    }
  }

  private pushDirty(link: number): void {
    if (this.nDirty === this.dirty.length) {
      const grown = new Int32Array(2 * this.dirty.length);
      grown.set(this.dirty);
      this.dirty = grown;
    }
    this.dirty[this.nDirty++] = link;
  }

  // Event actions, created once: events carry the flow as their argument, not a closure each.
  private readonly recomputeNow = (): void => this.recompute();
  private readonly drainAction = (f: Flow): void => this.drain(f);
  private readonly finishAction = (f: Flow): void => this.finish(f);
  private readonly doneAction = (f: Flow): void => this.done(f);

  private recompute(): void {
    this.recomputeQueued = false;
    const now = this.engine.now;
    const stamp = ++this.epoch;
    // Scratch arrays are reused (never shrunk: emptying an array frees its storage); `nl`, `nf` count entries.
    const links = this.compLinks;
    const flows = this.compFlows;
    let nl = 0;
    let nf = 0;
    // Connected component(s) of the links that changed: link → its flows → their links → ...
    for (let i = 0; i < this.nDirty; i++) {
      const l = this.dirty[i]!;
      if (this.linkMark[l] !== stamp) {
        this.linkMark[l] = stamp;
        links[nl++] = l;
      }
    }
    while (this.nDirty > 0) {
      const l = this.dirty[--this.nDirty]!;
      for (const f of this.onLink[l]!) {
        if (f.mark === stamp) continue;
        f.mark = stamp;
        flows[nf++] = f;
        for (const m of f.links) {
          if (this.linkMark[m] === stamp) continue;
          this.linkMark[m] = stamp;
          links[nl++] = m;
          this.pushDirty(m);
        }
      }
    }
    if (this.before.length < nf) this.before = new Float64Array(2 * nf);
    const before = this.before;
    for (let i = 0; i < nf; i++) {
      this.settleFlow(flows[i]!, now);
      before[i] = flows[i]!.rate;
    }
    for (let i = 0; i < nl; i++) this.settleLink(links[i]!, now);
    this.solver.solve(flows, nf, this.onLink);
    this.solves++;
    this.solvedFlows += nf;
    for (let i = 0; i < nl; i++) this.load[links[i]!] = 0;
    for (let i = 0; i < nf; i++) {
      const f = flows[i]!;
      for (let k = 0; k < f.links.length; k++) this.load[f.links[k]!]! += f.mult[k]! * f.rate;
      if (f.rate !== before[i] || f.completion === undefined) this.reschedule(f, now);
    }
  }

  private reschedule(f: Flow, now: number): void {
    if (f.completion !== undefined) this.engine.cancel(f.completion);
    f.completion = f.rate > 0 ? this.engine.schedule(now + f.remaining / f.rate, this.drainAction, f) : undefined;
  }

  private drain(f: Flow): void {
    const now = this.engine.now;
    this.settleFlow(f, now);
    f.remaining = 0;
    f.completion = undefined;
    f.active = false;
    this.active--;
    for (const l of f.links) {
      const list = this.onLink[l]!;
      const i = list.indexOf(f);
      list[i] = list[list.length - 1]!;
      list.pop();
      this.touch(l);
    }
    this.finish(f);
  }

  private finish(f: Flow): void {
    f.drainedAt = this.engine.now;
    if (f.latency > 0) this.engine.after(f.latency, this.doneAction, f);
    else this.done(f);
  }

  private done(f: Flow): void {
    f.doneAt = this.engine.now;
    f.onDone?.(f);
  }

  private settleFlow(f: Flow, now: number): void {
    const dt = now - f.updatedAt;
    if (dt > 0 && f.rate > 0) {
      f.remaining = Math.max(0, f.remaining - f.rate * dt);
      const b = f.bottleneck === CEILING_LINK ? CEILING : f.bottleneck >= 0 ? this.boundOfLink[f.bottleneck]! : -1;
      if (b >= 0) f.boundTime[b]! += dt;
    }
    f.updatedAt = now;
  }

  private settleLink(l: number, now: number): void {
    const dt = now - this.linkUpdatedAt[l]!;
    if (dt > 0 && this.load[l]! > 0) {
      this.linkBytes[l]! += this.load[l]! * dt;
      this.linkBusy[l]! += dt;
    }
    this.linkUpdatedAt[l] = now;
  }
}
