import { EventQueue, type QueuedEvent } from './event-queue.js';

/** A scheduled event; pass it to `Engine.cancel` to drop it before it runs. */
export type EventHandle = Readonly<Omit<QueuedEvent, 'cancelled'>> & { readonly cancelled: boolean };

/**
 * The discrete-event core: one clock (seconds) shared by everything the simulator runs — compute tasks,
 * network flows, collectives. Deterministic: events run in (time, phase, scheduling order), so the same
 * inputs give the same event sequence on every run.
 */
export class Engine {
  private readonly queue = new EventQueue();
  private seq = 0;
  private clock = 0;
  /** Number of events executed so far (cancelled ones are not counted). */
  eventsRun = 0;

  /** Current simulated time, seconds. */
  get now(): number {
    return this.clock;
  }

  /** Events still queued (may include cancelled ones not yet discarded). */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Run `action` at absolute time `at` (>= now). Same-time events run in the order they were scheduled.
   * `action(arg)` is called, so a hot path can pass one long-lived function and a payload instead of
   * allocating a closure per event.
   */
  schedule(at: number, action: () => void): EventHandle;
  schedule<T>(at: number, action: (arg: T) => void, arg: T): EventHandle;
  schedule<T>(at: number, action: (arg: T) => void, arg?: T): EventHandle {
    return this.enqueue(at, 0, action, arg as T);
  }

  /** Run `action` `delay` seconds from now. */
  after(delay: number, action: () => void): EventHandle;
  after<T>(delay: number, action: (arg: T) => void, arg: T): EventHandle;
  after<T>(delay: number, action: (arg: T) => void, arg?: T): EventHandle {
    return this.enqueue(this.clock + delay, 0, action, arg as T);
  }

  /**
   * Run `action` at `at`, after every ordinary event of that instant — used to batch all changes made at one
   * instant (e.g. flows starting and finishing together) into a single piece of work.
   */
  scheduleLate(at: number, action: () => void): EventHandle {
    return this.enqueue(at, 1, action, undefined);
  }

  cancel(handle: EventHandle): void {
    (handle as QueuedEvent).cancelled = true;
  }

  /** Runs events until the queue is empty or the next event lies after `until`. Returns the final time. */
  run(until = Infinity): number {
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.time > until) break;
      this.queue.pop();
      if (next.cancelled) continue;
      this.clock = next.time;
      this.eventsRun++;
      (next.action as (arg: unknown) => void)(next.arg);
    }
    if (until !== Infinity && until > this.clock) this.clock = until;
    return this.clock;
  }

  private enqueue<T>(at: number, phase: number, action: (arg: T) => void, arg: T): EventHandle {
    if (!(at >= this.clock)) {
      throw new RangeError(`cannot schedule an event at ${at} s: the clock is already at ${this.clock} s`);
    }
    const ev: QueuedEvent = { time: at, phase, seq: this.seq++, action, arg, cancelled: false };
    this.queue.push(ev);
    return ev;
  }
}
