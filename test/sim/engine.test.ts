import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/sim/engine/engine.js';

describe('event engine', () => {
  it('runs events in time order and same-time events in scheduling order', () => {
    const e = new Engine();
    const log: string[] = [];
    e.schedule(2, () => log.push('t2'));
    for (let i = 0; i < 5; i++) e.schedule(1, () => log.push(`t1-${i}`));
    e.schedule(0.5, () => log.push('t0.5'));
    e.run();
    expect(log).toEqual(['t0.5', 't1-0', 't1-1', 't1-2', 't1-3', 't1-4', 't2']);
    expect(e.now).toBe(2);
  });

  it('keeps insertion order among many equal times (heap order never leaks)', () => {
    const e = new Engine();
    const log: number[] = [];
    // Interleave two instants so the heap reshuffles a lot.
    for (let i = 0; i < 1000; i++) e.schedule(i % 2 ? 1 : 3, () => log.push(i));
    e.run();
    const odd = log.slice(0, 500);
    const even = log.slice(500);
    expect(odd).toEqual(Array.from({ length: 500 }, (_, k) => 2 * k + 1));
    expect(even).toEqual(Array.from({ length: 500 }, (_, k) => 2 * k));
  });

  it('runs late events after all ordinary events of the same instant, even ones scheduled later', () => {
    const e = new Engine();
    const log: string[] = [];
    e.schedule(1, () => {
      log.push('a');
      e.scheduleLate(1, () => log.push('late'));
      e.schedule(1, () => log.push('c'));
    });
    e.schedule(1, () => log.push('b'));
    e.run();
    expect(log).toEqual(['a', 'b', 'c', 'late']);
  });

  it('events scheduled from events at the current time run in the same instant', () => {
    const e = new Engine();
    const times: number[] = [];
    e.schedule(1, () => e.after(0, () => times.push(e.now)));
    e.run();
    expect(times).toEqual([1]);
  });

  it('cancels events and refuses to schedule in the past', () => {
    const e = new Engine();
    let ran = false;
    const h = e.schedule(1, () => (ran = true));
    e.cancel(h);
    e.schedule(2, () => expect(() => e.schedule(1, () => {})).toThrow(/clock is already at 2/));
    e.run();
    expect(ran).toBe(false);
    expect(e.eventsRun).toBe(1);
  });

  it('stops at `until` and resumes', () => {
    const e = new Engine();
    const log: number[] = [];
    for (const t of [1, 2, 3]) e.schedule(t, () => log.push(t));
    e.run(2.5);
    expect(log).toEqual([1, 2]);
    expect(e.now).toBe(2.5);
    e.run();
    expect(log).toEqual([1, 2, 3]);
  });
});
