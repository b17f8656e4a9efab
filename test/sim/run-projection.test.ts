import { describe, expect, it } from 'vitest';
import { checkpointSize, saveSeconds, type RankStates } from '../../src/sim/run/checkpoint.js';
import { failureCost } from '../../src/sim/run/failures.js';
import { projectRun } from '../../src/sim/run/projection.js';
import { pipelineStages } from '../../src/model/pipeline-partition.js';
import { getPreset } from '../../src/model/presets.js';

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

/** NeoX-20B at TP 2, PP 4, DP 12 with ranks in gpt-neox's order (pipe, data, model), 8 GPUs per node. */
function neox20bRanks(): RankStates[] {
  const stages = pipelineStages(getPreset('neox-20b'), 4, 2);
  const ranks: RankStates[] = [];
  for (let pipe = 0; pipe < 4; pipe++) for (let data = 0; data < 12; data++) for (let model = 0; model < 2; model++) {
    const r = (pipe * 12 + data) * 2 + model;
    ranks.push({ node: Math.floor(r / 8), dpIndex: data, params: stages[pipe]!.paramsPerRank });
  }
  return ranks;
}

describe('checkpoint size', () => {
  const size = checkpointSize(neox20bRanks(), 12, 12, 1);

  it('NeoX-20B: 2 B/param fp16 + 12 B/param optimizer = 268.0 GiB, the gpt-neox README\'s "268GB" full checkpoint', () => {
    const printed = 20_556_201_984; // parameters gpt-neox counts at TP 2 (each TP rank's copy of replicated tensors)
    expect(size.modelBytes).toBe(2 * printed);
    close(size.optimizerBytes, 12 * printed);
    expect(size.totalBytes / 2 ** 30).toBeCloseTo(268.0, 1);
    // The slim (fp16) checkpoint on the-eye is 41,112,854,242 B: ours is 451 kB less (file metadata).
    expect(41_112_854_242 - size.modelBytes).toBeLessThan(1e6);
  });

  it('data-parallel index 0 writes the model states, every rank its ZeRO partition; the save waits for the busiest node', () => {
    // Ranks with data index 0 sit on nodes 0, 3, 6 and 9 (pipe p → ranks 24p, 24p+1); the last stage holds
    // the most parameters (output layer + final norm), so node 9 writes the most.
    const busiest = Math.max(...size.bytesPerNode);
    expect(size.bytesPerNode.indexOf(busiest)).toBe(9);
    expect(size.bytesPerNode[1]!).toBeLessThan(busiest);
    close(saveSeconds(size, 2e9), busiest / 2e9);
    close(size.bytesPerNode.reduce((a, b) => a + b, 0), size.totalBytes);
  });

  it('without ZeRO the optimizer states are written by data index 0 only', () => {
    const z0 = checkpointSize(neox20bRanks(), 12, 12, 0);
    close(z0.totalBytes, size.totalBytes);
    expect(z0.bytesPerNode[1]).toBe(0);
  });
});

describe('failure model', () => {
  it('T = T0 / (1 − λ·c) with c = restart + reload + interval/2, and λ·T expected failures', () => {
    const f = failureCost(1000 * 3600, 100, { mtbfHoursPerGpu: 100_000, restartSeconds: 1800 }, 600, 7200);
    const lambda = 100 / (100_000 * 3600);
    const c = 1800 + 600 + 3600;
    close(f.wallSeconds, (1000 * 3600) / (1 - lambda * c));
    close(f.expectedFailures, lambda * f.wallSeconds);
    close(f.lostSeconds, f.wallSeconds - 1000 * 3600);
  });

  it('a job that fails faster than it can checkpoint never finishes', () => {
    const f = failureCost(3600, 1000, { mtbfHoursPerGpu: 1000, restartSeconds: 3600 }, 0, 3600);
    expect(f.wallSeconds).toBe(Infinity);
  });

  it('no failures with an infinite MTBF', () => {
    expect(failureCost(10, 96, { mtbfHoursPerGpu: Infinity, restartSeconds: 60 }, 1, 1).wallSeconds).toBe(10);
  });
});

describe('whole-run projection', () => {
  it('adds steps, evaluations every eval_interval, saves every save_interval and failures', () => {
    const size = { modelBytes: 0, optimizerBytes: 0, totalBytes: 4e10, bytesPerNode: [1e10, 3e10] };
    const p = projectRun({
      steps: 150_000, stepSeconds: 40, gpus: 96,
      eval: { interval: 1000, iters: 10, iterSeconds: 15 },
      save: { interval: 500, size, writeBandwidthPerNode: 1e9 },
      failures: { mtbfHoursPerGpu: Infinity, restartSeconds: 0 },
    });
    expect(p.evals).toBe(150);
    expect(p.saves).toBe(300);
    expect(p.trainingSeconds).toBe(6e6);
    expect(p.evalSeconds).toBe(150 * 10 * 15);
    expect(p.secondsPerSave).toBe(30);
    expect(p.totalSeconds).toBe(6e6 + 22_500 + 9000);
    close(p.gpuHours, (p.totalSeconds / 3600) * 96);
  });
});
