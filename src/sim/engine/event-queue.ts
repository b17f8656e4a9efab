/**
 * A binary min-heap of timed events ordered by (time, phase, insertion sequence). The sequence number makes
 * the order total, so events at the same instant run in the order they were scheduled — never in an order
 * that depends on float ties or on the heap's internal layout.
 */
export interface QueuedEvent {
  readonly time: number;
  /** 0 = ordinary event, 1 = "late": runs after every ordinary event of the same instant. */
  readonly phase: number;
  readonly seq: number;
  /** Called with `arg` (so that callers can pass one long-lived function and a payload, not a new closure). */
  readonly action: (arg: never) => void;
  readonly arg: unknown;
  cancelled: boolean;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.phase !== b.phase) return a.phase < b.phase;
  return a.seq < b.seq;
}

export class EventQueue {
  private heap: QueuedEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): QueuedEvent | undefined {
    return this.heap[0];
  }

  push(ev: QueuedEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(ev, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = ev;
  }

  pop(): QueuedEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    // Sift the last element down from the root.
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
