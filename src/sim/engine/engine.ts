import { EventQueue } from './event-queue.js';

/** A scheduled event (its sequence number); pass it to `Engine.cancel` to drop it before it runs. */
export type EventHandle = number;

/**
 * The discrete-event core: one clock (seconds) shared by everything the simulator runs — compute tasks,
 * network flows, collectives. Deterministic: events run in (time, phase, scheduling order), so the same
 * inputs give the same event sequence on every run.
 */
export class Engine {
  private readonly queue = new EventQueue();
  /** Sequence numbers of cancelled events still in the queue. */
  private readonly cancelled = new Set<number>();
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
    return this.enqueue(at, 0, action, arg);
  }

  /** Run `action` `delay` seconds from now. */
  after(delay: number, action: () => void): EventHandle;
  after<T>(delay: number, action: (arg: T) => void, arg: T): EventHandle;
  after<T>(delay: number, action: (arg: T) => void, arg?: T): EventHandle {
    return this.enqueue(this.clock + delay, 0, action, arg);
  }

  /**
   * Run `action` at `at`, after every ordinary event of that instant — used to batch all changes made at one
   * instant (e.g. flows starting and finishing together) into a single piece of work.
   */
  scheduleLate(at: number, action: () => void): EventHandle {
    return this.enqueue(at, 1, action, undefined);
  }

  /** Drops an event that has not run yet. */
  cancel(handle: EventHandle): void {
    this.cancelled.add(handle);
  }

  /** Runs events until the queue is empty or the next event lies after `until`. Returns the final time. */
  run(until = Infinity): number {
    const q = this.queue;
    while (q.size > 0) {
      const time = q.topTime();
      if (time > until) break;
      const seq = q.topSeq();
      const action = q.topAction() as (arg: unknown) => void;
      const arg = q.topArg();
      q.pop();
      if (this.cancelled.size > 0 && this.cancelled.delete(seq)) continue;
      this.clock = time;
      this.eventsRun++;
      action(arg);
    }
    if (until !== Infinity && until > this.clock) this.clock = until;
    return this.clock;
  }

  private enqueue(at: number, phase: number, action: (arg: never) => void, arg: unknown): EventHandle {
    if (!(at >= this.clock)) {
      throw new RangeError(`cannot schedule an event at ${at} s: the clock is already at ${this.clock} s`);
    }
    const seq = this.seq++;
    this.queue.push(at, phase, seq, action, arg);
    return seq;
  }
}
