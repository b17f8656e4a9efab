import { CEILING_LINK, type Flow } from './flow.js';

/**
 * Max-min fair rates by progressive filling. All unfrozen flows rise at one common rate; when a link runs
 * out of capacity, the flows crossing it freeze at the current level, and so does a flow that reaches its
 * own ceiling. A flow crossing a link k times uses k times its rate there. The next link to saturate comes
 * from a heap of per-link levels (residual capacity / unfrozen multiplicity), so a solve costs
 * O((links + flow-link pairs) · log links) instead of one full scan per frozen flow.
 */
export class MaxMinSolver {
  private readonly residual: Float64Array;
  private readonly weight: Float64Array;
  private readonly version: Uint32Array;
  private readonly heap = new LevelHeap();

  constructor(private readonly capacity: Float64Array) {
    this.residual = new Float64Array(capacity.length);
    this.weight = new Float64Array(capacity.length);
    this.version = new Uint32Array(capacity.length);
  }

  /**
   * Sets `rate` and `bottleneck` of every flow in `flows`, which must be a whole connected component:
   * every active flow on any of `links` is in `flows`, and `links` holds every link those flows cross.
   * `flowsOn(l)` lists the active flows on link l.
   */
  solve(flows: readonly Flow[], links: readonly number[], flowsOn: (l: number) => readonly Flow[]): void {
    if (flows.length === 1) return this.solveOne(flows[0]!);
    const { residual, weight, version, heap } = this;
    heap.clear();
    for (const l of links) {
      residual[l] = this.capacity[l]!;
      weight[l] = 0;
    }
    for (const f of flows) {
      f.frozen = false;
      for (let i = 0; i < f.links.length; i++) weight[f.links[i]!]! += f.mult[i]!;
    }
    for (const l of links) {
      version[l]!++;
      if (weight[l]! > 0) heap.push(residual[l]! / weight[l]!, l, version[l]!);
    }
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i]!;
      if (f.maxRate !== Infinity) heap.push(f.maxRate, -1 - i, 0);
    }

    let unfrozen = flows.length;
    const freeze = (f: Flow, rate: number, bottleneck: number) => {
      f.frozen = true;
      f.rate = rate;
      f.bottleneck = bottleneck;
      unfrozen--;
      for (let i = 0; i < f.links.length; i++) {
        const l = f.links[i]!;
        const m = f.mult[i]!;
        residual[l] = Math.max(0, residual[l]! - m * rate);
        weight[l] = weight[l]! - m;
        version[l]!++;
        if (weight[l]! > 1e-9) heap.push(residual[l]! / weight[l]!, l, version[l]!);
        else weight[l] = 0;
      }
    };

    while (unfrozen > 0 && heap.size > 0) {
      const level = heap.topLevel();
      const id = heap.topId();
      const ver = heap.topVersion();
      heap.pop();
      if (id < 0) {
        const f = flows[-1 - id]!;
        if (!f.frozen) freeze(f, level, CEILING_LINK);
        continue;
      }
      if (ver !== version[id] || weight[id] === 0) continue; // stale entry
      for (const f of flowsOn(id)) if (!f.frozen) freeze(f, level, id);
    }
    // Only flows crossing no link at all can be left: nothing limits them but their own ceiling.
    for (const f of flows) if (!f.frozen) freeze(f, f.maxRate, CEILING_LINK);
  }

  /** A flow alone in its component: the tightest of its links (capacity / multiplicity) or its ceiling. */
  private solveOne(f: Flow): void {
    let rate = f.maxRate;
    let bottleneck = CEILING_LINK;
    for (let i = 0; i < f.links.length; i++) {
      const l = f.links[i]!;
      const r = this.capacity[l]! / f.mult[i]!;
      if (r < rate) {
        rate = r;
        bottleneck = l;
      }
    }
    f.rate = rate;
    f.bottleneck = bottleneck;
  }
}

/** Min-heap of (level, id, version) in parallel arrays; ties break on id so the order is deterministic. */
class LevelHeap {
  private level: number[] = [];
  private id: number[] = [];
  private ver: number[] = [];

  get size(): number {
    return this.level.length;
  }
  clear(): void {
    this.level.length = 0;
    this.id.length = 0;
    this.ver.length = 0;
  }
  topLevel(): number {
    return this.level[0]!;
  }
  topId(): number {
    return this.id[0]!;
  }
  topVersion(): number {
    return this.ver[0]!;
  }

  private less(i: number, j: number): boolean {
    const a = this.level[i]!;
    const b = this.level[j]!;
    return a < b || (a === b && this.id[i]! < this.id[j]!);
  }

  private swap(i: number, j: number): void {
    const { level, id, ver } = this;
    const l = level[i]!;
    level[i] = level[j]!;
    level[j] = l;
    const d = id[i]!;
    id[i] = id[j]!;
    id[j] = d;
    const v = ver[i]!;
    ver[i] = ver[j]!;
    ver[j] = v;
  }

  push(level: number, id: number, ver: number): void {
    this.level.push(level);
    this.id.push(id);
    this.ver.push(ver);
    let i = this.level.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): void {
    const n = this.level.length - 1;
    this.swap(0, n);
    this.level.pop();
    this.id.pop();
    this.ver.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(r, l) ? r : l;
      if (!this.less(c, i)) break;
      this.swap(i, c);
      i = c;
    }
  }
}
