import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { idealSchedule } from '../../src/workload/graph-checks.js';
import { makePlan, type PipelineSchedule } from '../../src/workload/plan.js';
import { maxInFlight, stageSchedule, type PipeAction } from '../../src/workload/schedule.js';
import { KIND, PART, PHASE } from '../../src/workload/task-graph.js';

const computeOps = (a: PipeAction[]) => a.filter((x) => x.op === 'forward' || x.op === 'backward');
const warmup = (a: PipeAction[]) => computeOps(a).findIndex((x) => x.op === 'backward');
const cooldown = (a: PipeAction[]) => {
  const ops = computeOps(a);
  return ops.length - 1 - ops.map((x) => x.op).lastIndexOf('forward');
};

describe('pipeline schedules: orderings per stage', () => {
  const sched = (schedule: PipelineSchedule, pp: number, m: number, v = 1) => (s: number) => stageSchedule({ pp, gradAccumSteps: m, schedule, virtualStages: v }, s);

  it('1F1B (DeepSpeed TrainSchedule): stage s warms up with p − s forwards, keeps p − s micro-batches in flight, cools down with p − s backwards', () => {
    for (const [pp, m] of [[4, 32], [4, 8], [3, 9], [8, 16]]) {
      for (let s = 0; s < pp; s++) {
        const a = sched('1f1b', pp, m)(s);
        expect(warmup(a)).toBe(Math.min(m, pp - s));
        expect(maxInFlight(a)).toBe(Math.min(m, pp - s));
        expect(cooldown(a)).toBe(Math.min(m, pp - s));
        // Steady state strictly alternates one backward, one forward.
        const ops = computeOps(a).map((x) => x.op[0]).join('');
        expect(ops).toBe('f'.repeat(pp - s) + 'bf'.repeat(m - (pp - s)) + 'b'.repeat(pp - s));
      }
    }
  });

  it('1F1B defers each send to the next slot, as TrainSchedule does (stage 1 of 4)', () => {
    const a = sched('1f1b', 4, 8)(1).slice(0, 12).map((x) => `${x.op}:${x.mb}`);
    expect(a).toEqual([
      'recv-act:0', 'forward:0', 'send-act:0', 'recv-act:1', 'forward:1', 'send-act:1', 'recv-act:2', 'forward:2',
      'recv-grad:0', 'send-act:2', 'backward:0', 'send-grad:0',
    ]);
  });

  it('GPipe: all m forwards then all backwards, m micro-batches in flight on every stage', () => {
    for (let s = 0; s < 4; s++) {
      const a = sched('gpipe', 4, 8)(s);
      expect(warmup(a)).toBe(8);
      expect(maxInFlight(a)).toBe(8);
    }
  });

  it('interleaved 1F1B (Megatron): warm-up (p − s − 1)·2 + (v − 1)·p virtual forwards; chunk s, s + p, … on stage s', () => {
    const pp = 4;
    const v = 2;
    for (let s = 0; s < pp; s++) {
      const a = sched('interleaved', pp, 8, v)(s);
      const w = (pp - s - 1) * 2 + (v - 1) * pp;
      // The first backward comes after the warm-up forwards and the first steady-state forward.
      expect(warmup(a)).toBe(w + 1);
      expect(new Set(computeOps(a).map((x) => x.vstage))).toEqual(new Set([s, s + pp]));
    }
    // With m = p, every forward is warm-up.
    expect(warmup(sched('interleaved', 4, 4, 2)(3))).toBe(8);
  });

  it('every schedule runs each chunk forward and backward once per micro-batch, forward first', () => {
    for (const [schedule, v] of [['1f1b', 1], ['gpipe', 1], ['interleaved', 3]] as const) {
      for (let s = 0; s < 4; s++) {
        const a = sched(schedule, 4, 12, v)(s);
        const seen = new Map<string, string>();
        for (const x of computeOps(a)) {
          const k = `${x.vstage}/${x.mb}`;
          expect(seen.get(k) ?? '').toBe(x.op === 'forward' ? '' : 'forward');
          seen.set(k, x.op);
        }
        expect(seen.size).toBe(12 * v);
        expect([...seen.values()].every((op) => op === 'backward')).toBe(true);
      }
    }
  });
});

describe('pipeline bubble with free communication (ideal schedule of the built graph)', () => {
  // 24 layers split evenly; forward of a layer costs 1, its backward 2; everything else is free.
  const cfg = { ...getPreset('neox-tiny3'), numLayers: 24 };
  const cases: [PipelineSchedule, number, number, number][] = [
    ['1f1b', 1, 4, 8], ['1f1b', 1, 4, 32], ['1f1b', 1, 3, 9], ['1f1b', 1, 2, 6],
    ['gpipe', 1, 4, 8], ['gpipe', 1, 3, 5],
    ['interleaved', 2, 4, 8], ['interleaved', 3, 4, 4], ['interleaved', 2, 3, 9],
  ];
  for (const [schedule, v, pp, m] of cases) {
    it(`${schedule}${v > 1 ? ` v=${v}` : ''}, p=${pp}, m=${m}: bubble = (p−1)/(v·m + p − 1)`, () => {
      const plan = makePlan(cfg, { pp, gradAccumSteps: m, schedule, virtualStages: v, microBatch: 2 });
      const g = buildTaskGraph(cfg, plan);
      const s = idealSchedule(g, (p, i) => (p.kind[i] === KIND.compute && p.part[i] === PART.layer ? (p.phase[i] === PHASE.forward ? 1 : 2) : 0));
      expect(s.unfinished).toBe(0);
      for (let pi = 0; pi < pp; pi++) {
        let busy = 0;
        for (let i = 0; i < g.programs[pi]!.size; i++) busy += s.finish[pi]![i]! - s.start[pi]![i]!;
        expect(busy).toBe(3 * (24 / pp) * m);
        expect(1 - busy / s.makespan).toBeCloseTo((pp - 1) / (v * m + pp - 1), 12);
      }
    });
  }
});
