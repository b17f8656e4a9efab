/**
 * A binary min-heap of timed events ordered by (time, phase, scheduling sequence). The sequence number makes
 * the order total, so events at the same instant run in the order they were scheduled — never in an order
 * that depends on float ties or on the heap's internal layout.
 *
 * Struct of arrays: an event is (time, order key, action, argument) at one index of four parallel arrays,
 * so queueing one allocates nothing. The order key is the sequence number, plus 2^52 for "late" events
 * (phase 1): one comparison orders by phase, then sequence.
 */
export class EventQueue {
  private time = new Float64Array(1024);
  private key = new Float64Array(1024);
  private readonly action: ((arg: never) => void)[] = [];
  private readonly arg: unknown[] = [];
  size = 0;

  /** Time, sequence number, action and argument of the next event (the queue must not be empty). */
  topTime(): number {
    return this.time[0]!;
  }
  topSeq(): number {
    return this.key[0]! % LATE;
  }
  topAction(): (arg: never) => void {
    return this.action[0]!;
  }
  topArg(): unknown {
    return this.arg[0];
  }

  push(time: number, phase: number, seq: number, action: (arg: never) => void, arg: unknown): void {
    if (this.size === this.time.length) this.grow();
    const key = phase === 0 ? seq : LATE + seq;
    const T = this.time;
    const K = this.key;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = T[p]!;
      if (pt < time || (pt === time && K[p]! < key)) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, time, key, action, arg);
  }

  /** Removes the next event. */
  pop(): void {
    const n = --this.size;
    const T = this.time;
    const K = this.key;
    const time = T[n]!;
    const key = K[n]!;
    const action = this.action[n]!;
    const arg = this.arg[n];
    this.action[n] = undefined!; // let the closure and its argument go
    this.arg[n] = undefined;
    if (n === 0) return;
    // Sift the last event down from the root.
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (T[c + 1]! < T[c]! || (T[c + 1] === T[c] && K[c + 1]! < K[c]!))) c++;
      const ct = T[c]!;
      if (time < ct || (time === ct && key < K[c]!)) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, time, key, action, arg);
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from]!;
    this.key[to] = this.key[from]!;
    this.action[to] = this.action[from]!;
    this.arg[to] = this.arg[from];
  }

  private set(i: number, time: number, key: number, action: (arg: never) => void, arg: unknown): void {
    this.time[i] = time;
    this.key[i] = key;
    this.action[i] = action;
    this.arg[i] = arg;
  }

  private grow(): void {
    const time = new Float64Array(2 * this.time.length);
    const key = new Float64Array(2 * this.key.length);
    time.set(this.time);
    key.set(this.key);
    this.time = time;
    this.key = key;
  }
}

/** Added to the order key of late events; sequence numbers stay below it. */
const LATE = 2 ** 52;
