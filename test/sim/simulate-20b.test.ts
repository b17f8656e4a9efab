import { beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { layerActivationBytes } from '../../src/model/activation-memory.js';
import { megatronFlops, neoxLogger2022FlopsPerToken } from '../../src/model/flops.js';
import { pipelineStages } from '../../src/model/pipeline-partition.js';
import { getPreset } from '../../src/model/presets.js';
import { defaultRunSettings, NEOX_20B_PLAN } from '../../src/sim/run/run-settings.js';
import { simulate, type Simulation } from '../../src/sim/run/simulate.js';
import { makePlan } from '../../src/workload/plan.js';

/** The GPT-NeoX-20B plan on its own cluster (configs/20B.yml; 96 GPUs), simulated once for every test here. */
const cfg = getPreset('neox-20b');
const plan = makePlan(cfg, { ...NEOX_20B_PLAN, dp: 12 });
let sim: Simulation;
beforeAll(() => {
  sim = simulate({ cfg, plan, cluster: loadCluster('supermicro12'), nccl: loadNcclProfile(), settings: defaultRunSettings() });
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('NeoX-20B on supermicro12: memory against the facts formulas (neox-20b.md §5.2)', () => {
  const stages = pipelineStages(cfg, 4, 2);
  const sbh = 2048 * 4 * 6144;

  it('model states: 2 B fp16 params + 2 B fp16 grads + 12/DP B master and Adam ≈ 13.2 GB first/last, 12.5 GB middle', () => {
    const expectGB = [13.2, 12.5, 12.5, 13.2];
    for (const m of sim.summary.memory.stages) {
      const P = stages[m.pipe]!.paramsPerRank;
      const c = m.maxByCategory;
      expect(c['fp16-params']).toBe(2 * P);
      expect(c['fp16-grads']).toBe(2 * P);
      // ZeRO-1's fp32 master weights and Adam m, v: 12 B per parameter of the rank's 1/DP partition (padded).
      const states = c['fp32-master'] + c['adam-m'] + c['adam-v'];
      expect(rel(states, (12 * P) / 12)).toBeLessThan(0.05);
      const total = c['fp16-params'] + c['fp16-grads'] + states;
      expect(rel(total, (4 + 12 / 12) * P)).toBeLessThan(0.01);
      expect(rel(total / 1e9, expectGB[m.pipe]!)).toBeLessThan(0.01);
    }
  });

  it('checkpointed layer inputs: 2·s·b·h per layer per in-flight micro-batch; stage s holds min(p − s, m) micro-batches', () => {
    // Stage 0: 4 in flight × 11 layers × 96 MiB = 4.43 GB, the facts' figure. On later stages the first
    // layer's input is the activation received from the previous stage, held in its p2p buffer instead.
    for (const m of sim.summary.memory.stages) {
      const layersHeld = m.pipe === 0 ? 11 : 10;
      expect(m.maxByCategory['checkpointed-activations']).toBe(Math.min(4 - m.pipe, 32) * layersHeld * 2 * sbh);
      if (m.pipe > 0) expect(m.maxByCategory['p2p-buffers']).toBeGreaterThanOrEqual(2 * sbh);
    }
    expect(2 * sbh).toBe(100_663_296); // 96 MiB, the facts' per-layer figure
  });

  it("the recompute working set is one layer's re-created activations (the op list's figure)", () => {
    const ws = layerActivationBytes(cfg, { tp: 2, microBatch: 4, recompute: 'full' }).recomputeWorkingSet;
    for (const m of sim.summary.memory.stages) expect(m.maxByCategory['recompute-working-set']).toBe(ws);
  });

  it('every stage fits the 40 GB card, with the peak and margin reported against the usable capacity', () => {
    for (const m of sim.summary.memory.stages) {
      expect(m.fits).toBe(true);
      expect(m.marginBytes).toBe(sim.summary.memory.capacityBytes - m.peakBytes);
      const sum = Object.values(m.byCategory).reduce((a, b) => a + b, 0);
      expect(rel(sum, m.peakBytes)).toBeLessThan(1e-12);
    }
  });
});

describe('NeoX-20B on supermicro12: the step', () => {
  it('each stage\'s breakdown adds up to the step time', () => {
    const T = sim.summary.step.seconds;
    for (const { seconds: b } of sim.summary.step.stages) {
      const sum = b.forward + b.recompute + b.backward + b.optimizer + b.exposedTp + b.exposedPp + b.exposedDp + b.bubble;
      expect(rel(sum, T)).toBeLessThan(1e-9);
      expect(b.hiddenTp + 1e-12).toBeLessThanOrEqual(b.commTp + 1e-9);
    }
  });

  it('TFLOP/s per GPU follow each convention from the simulated step time', () => {
    const { rates, seconds: T } = sim.summary.step;
    const tokens = 1536 * 2048;
    expect(rates.tokensPerStep).toBe(tokens);
    expect(rel(rates.neoxLogger2022.flops, neoxLogger2022FlopsPerToken(cfg, 2, 4) * tokens)).toBeLessThan(1e-12);
    expect(rel(rates.neoxLogger2022.tflopsPerGpu, rates.neoxLogger2022.flops / (T * 96) / 1e12)).toBeLessThan(1e-12);
    // The GEMMs and BMMs the simulated GPUs ran add up to Megatron's formula with recompute, term for term.
    expect(rel(rates.simulatedMatmul.flops, megatronFlops(cfg, { batch: 1536 }, true, 2).total)).toBeLessThan(1e-9);
  });

  it('the pipeline, TP and DP communication all cost something and are explained in words', () => {
    const s = sim.summary.step.stages[1]!.seconds;
    expect(s.commTp).toBeGreaterThan(0);
    expect(s.commPp).toBeGreaterThan(0);
    expect(s.commDp).toBeGreaterThan(0);
    expect(sim.summary.step.explanation.join(' ')).toMatch(/Bottleneck/);
  });

  it('an evaluation iteration (forward only over a global batch) takes longer than one stage\'s forwards, less than a step', () => {
    const fwd = Math.max(...sim.summary.step.stages.map((s) => s.seconds.forward));
    expect(sim.summary.eval.iterSeconds).toBeGreaterThan(fwd);
    expect(sim.summary.eval.iterSeconds).toBeLessThan(sim.summary.step.seconds / 2);
  });

  it('the whole run: 150 evaluations, 300 saves of a 268 GiB checkpoint, next to the paper', () => {
    const run = sim.summary.run;
    expect(run.evals).toBe(150);
    expect(run.saves).toBe(300);
    expect(run.checkpoint.totalBytes / 2 ** 30).toBeCloseTo(268.0, 1);
    expect(run.paper).toEqual({ steps: 150_000, hours: 1830, gpus: 96, gpuHours: 175_680 });
    expect(run.totalSeconds).toBeGreaterThan(run.trainingSeconds + run.evalSeconds + run.savingSeconds);
  });
});
