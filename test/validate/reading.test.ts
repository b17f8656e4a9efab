import { describe, expect, it } from 'vitest';
import { readValidation } from '../../src/validate/reading.js';
import { errorStats } from '../../src/validate/stats.js';
import type { RunResult, ValidationReport } from '../../src/validate/validate.js';

/** A run whose simulated step has `idle` of exposed communication and bubble, off by `errorPct`. */
function run(id: string, errorPct: number, idle: number, basis = 'derived from the reported TFLOP/s'): RunResult {
  const published = 10;
  const seconds = published * (1 + errorPct / 100);
  return {
    id, gpus: 8, framework: 'megatron-lm', assumptions: [], errorPct,
    published: { seconds: published, basis, tflopsPerGpu: 100 },
    predicted: {
      seconds, tflopsPerGpu: 100, tflops: { sixN: 80, megatron: 100, neoxLogger2022: 90, simulatedMatmul: 156 }, tasks: 1, gpus: 8,
      shares: { compute: 1 - idle, exposedTp: idle, exposedPp: 0, exposedDp: 0, bubble: 0 }, gpu: { name: 'A100', peakTflops: 312, gemmEfficiency: 0.859 },
    },
  };
}
const report = (results: RunResult[]): ValidationReport => ({
  schema: 'neox-sim/validate@1', runsFile: 'f', results, stats: errorStats(results.map((r) => ({ id: r.id, errorPct: r.errorPct! }))),
  byFramework: { 'megatron-lm': errorStats(results.map((r) => ({ id: r.id, errorPct: r.errorPct! })))! },
});

describe('the reading follows the numbers', () => {
  it('a bias that shrinks where communication grows puts the missing time in compute, and names the compute-only runs', () => {
    const text = readValidation(report([run('a', -15, 0.01), run('b', -12, 0.1), run('c', -9, 0.2), run('d', -6, 0.3)])).join('\n');
    expect(text).toMatch(/4 of 4 simulated iterations are shorter than published, 0 longer: the simulator is optimistic \(iterations too short\) by 10\.5% on average/);
    expect(text).toMatch(/the error shrinks as that share grows: the missing time is in how fast each GPU computes.*offsets part of it\) \(correlation −1\.00\)/);
    expect(text).toMatch(/under 5% idle: a\), the error is −15\.0%: that part of the gap is the compute model's own/);
    // 156 of 312 TFLOP/s simulated = 50%; a −15% error means the published time implies 50% × 0.85.
    expect(text).toMatch(/at 50\.0% of their dense 16-bit peak .*calibrated 85\.9%\); the published times imply 42\.5%–47\.0%/);
  });

  it('a bias that grows with communication points at the network or the schedule; a wall-clock run is set apart', () => {
    const text = readValidation(report([run('a', -2, 0.01), run('b', -6, 0.1), run('c', -10, 0.2), run('d', -14, 0.3), run('w', -40, 0.1, '1,830 h over 150,000 steps (wall clock, all overheads included)')])).join('\n');
    expect(text).toMatch(/Over the 4 runs timed per iteration/);
    expect(text).toMatch(/the error grows with that share: the missing time is in communication or pipeline scheduling/);
    expect(text).toMatch(/w stands out at −40\.0%: its published time is the whole run's wall clock per step/);
  });

  it('says nothing without simulated runs', () => {
    expect(readValidation(report([]))).toEqual([]);
  });
});
