import { CEILING_LINK, type Flow } from './flow.js';

/**
 * Max-min fair rates by progressive filling. All unfrozen flows rise at one common rate; when a link runs
 * out of capacity, the flows crossing it freeze at the current level, and so does a flow that reaches its
 * own ceiling. A flow crossing a link k times uses k times its rate there. The next link to saturate comes
 * from a heap of per-link levels (residual capacity / unfrozen multiplicity), so a solve costs
 * O((links + flow-link pairs) · log links) instead of one full scan per frozen flow.
 *
 * Most flows of a training step share no link with any other active flow (a TP pair's all-reduce on its own
 * NVLink ports): such a flow is a component of its own, and its rate is the closed form (the tightest of its
 * links, or its ceiling) — exactly what progressive filling gives it, without the heap.
 */
export class MaxMinSolver {
  private readonly residual: Float64Array;
  private readonly weight: Float64Array;
  private readonly version: Uint32Array;
  /** Links in the current fill (== stamp). */
  private readonly inSolve: Uint32Array;
  private stamp = 0;
  private readonly heap = new LevelHeap();
  /** Scratch, reused across solves (never shrunk): indices of the flows that share a link, the links in
   * the heap, and how many of each. */
  private shared = new Int32Array(64);
  private links = new Int32Array(64);
  private nShared = 0;
  private nLinks = 0;

  constructor(private readonly capacity: Float64Array) {
    this.residual = new Float64Array(capacity.length);
    this.weight = new Float64Array(capacity.length);
    this.version = new Uint32Array(capacity.length);
    this.inSolve = new Uint32Array(capacity.length);
  }

  /**
   * Sets `rate` and `bottleneck` of flows[0 … n), which must be whole connected components: every active
   * flow on a link of one of them is among them. `onLink[l]` lists the active flows on link l.
   */
  solve(flows: readonly Flow[], n: number, onLink: readonly (readonly Flow[])[]): void {
    if (this.shared.length < n) this.shared = new Int32Array(2 * n);
    this.nShared = 0;
    for (let i = 0; i < n; i++) {
      const f = flows[i]!;
      if (alone(f, onLink)) this.solveOne(f);
      else this.shared[this.nShared++] = i;
    }
    if (this.nShared > 0) this.fill(flows, onLink);
  }

  /**
   * Progressive filling of the flows listed in `this.shared` (indices into `flows`, ascending). Ties break
   * on link id, a ceiling before any link and ceilings by flow index, so the order of freezes — and with it
   * every residual, bit for bit — does not depend on which other components are solved in the same call.
   *
   * A link only one flow crosses (a private link) can only ever freeze that flow, at capacity / multiplicity;
   * of a flow's private links only the tightest (lowest id among equals, as the heap orders them) can pop
   * while the flow is unfrozen, so the others are left out of the heap: it holds the shared links, one
   * private link per flow, and the ceilings.
   */
  private fill(flows: readonly Flow[], onLink: readonly (readonly Flow[])[]): void {
    const { residual, weight, version, heap, shared, nShared, capacity, inSolve } = this;
    const stamp = ++this.stamp;
    this.nLinks = 0;
    heap.clear();
    const include = (l: number, m: number) => {
      if (inSolve[l] !== stamp) {
        inSolve[l] = stamp;
        residual[l] = capacity[l]!;
        weight[l] = 0;
        if (this.nLinks === this.links.length) this.links = grow(this.links);
        this.links[this.nLinks++] = l;
      }
      weight[l]! += m;
    };
    for (let s = 0; s < nShared; s++) {
      const f = flows[shared[s]!]!;
      f.frozen = false;
      let tightest = -1;
      let level = Infinity;
      for (let k = 0; k < f.links.length; k++) {
        const l = f.links[k]!;
        if (onLink[l]!.length > 1) include(l, f.mult[k]!);
        else if (capacity[l]! / f.mult[k]! < level) {
          level = capacity[l]! / f.mult[k]!;
          tightest = k;
        }
      }
      if (tightest >= 0) include(f.links[tightest]!, f.mult[tightest]!);
    }
    for (let k = 0; k < this.nLinks; k++) {
      const l = this.links[k]!;
      version[l]!++;
      heap.push(residual[l]! / weight[l]!, l, version[l]!);
    }
    for (let s = 0; s < nShared; s++) {
      const i = shared[s]!;
      if (flows[i]!.maxRate !== Infinity) heap.push(flows[i]!.maxRate, -1 - i, 0);
    }

    let unfrozen = nShared;
    const freeze = (f: Flow, rate: number, bottleneck: number) => {
      f.frozen = true;
      f.rate = rate;
      f.bottleneck = bottleneck;
      unfrozen--;
      for (let i = 0; i < f.links.length; i++) {
        const l = f.links[i]!;
        if (inSolve[l] !== stamp) continue;
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
      for (const f of onLink[id]!) if (!f.frozen) freeze(f, level, id);
    }
    // Only flows crossing no link at all can be left: nothing limits them but their own ceiling.
    for (let s = 0; s < nShared; s++) {
      const f = flows[shared[s]!]!;
      if (!f.frozen) freeze(f, f.maxRate, CEILING_LINK);
    }
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

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}

/** No other active flow crosses any of f's links. */
function alone(f: Flow, onLink: readonly (readonly Flow[])[]): boolean {
  for (let i = 0; i < f.links.length; i++) if (onLink[f.links[i]!]!.length !== 1) return false;
  return true;
}
/**
 * Min-heap of (level, id, version) in parallel typed arrays that grow on demand; ties break on id so the
 * order is deterministic.
 */
class LevelHeap {
  private level = new Float64Array(256);
  private id = new Int32Array(256);
  private ver = new Uint32Array(256);
  size = 0;

  clear(): void {
    this.size = 0;
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

  push(level: number, id: number, ver: number): void {
    if (this.size === this.level.length) this.grow();
    const L = this.level;
    const I = this.id;
    const V = this.ver;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pl = L[p]!;
      if (pl < level || (pl === level && I[p]! < id)) break;
      L[i] = pl;
      I[i] = I[p]!;
      V[i] = V[p]!;
      i = p;
    }
    L[i] = level;
    I[i] = id;
    V[i] = ver;
  }

  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const L = this.level;
    const I = this.id;
    const V = this.ver;
    // Sift the last entry down from the root.
    const level = L[n]!;
    const id = I[n]!;
    const ver = V[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (L[c + 1]! < L[c]! || (L[c + 1] === L[c] && I[c + 1]! < I[c]!))) c++;
      const cl = L[c]!;
      if (level < cl || (level === cl && id < I[c]!)) break;
      L[i] = cl;
      I[i] = I[c]!;
      V[i] = V[c]!;
      i = c;
    }
    L[i] = level;
    I[i] = id;
    V[i] = ver;
  }

  private grow(): void {
    const n = 2 * this.level.length;
    const level = new Float64Array(n);
    const id = new Int32Array(n);
    const ver = new Uint32Array(n);
    level.set(this.level);
    id.set(this.id);
    ver.set(this.ver);
    this.level = level;
    this.id = id;
    this.ver = ver;
  }
}
