import { describe, expect, it } from 'vitest';
import { f16round } from '../../src/backends/f16.js';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { FloatBuf } from '../../src/backends/kernels.js';
import { Trainer, type TrainerOptions } from '../../src/trainer/trainer.js';
import { LossScaleAtMinimumError } from '../../src/trainer/optim/loss-scaler.js';
import { loadGolden } from './helpers/golden.js';

const g = loadGolden('tiny');
const seq = g.model.seqLength;
const tokens = g.train.tokens.subarray(0, 2 * (seq + 1));
const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({
  model: g.model, backend: createJsKernels, seed: g.seed, microBatchSize: 1, gradientAccumulationSteps: 2, precision: 'fp16',
  schedule: { lr: 1e-3, minLr: 1e-4, warmupIters: 0, decayIters: 10, style: 'cosine' }, ...o,
});
const isF16 = (x: FloatBuf) => x.every((v) => f16round(v) === v);
const snapshot = (t: Trainer) => t.model.params.list.map((p) => Float32Array.from(p.data));
const masters = (t: Trainer) => t.optimizer.states.map((s) => Float32Array.from(s.master));

describe('fp16 mixed precision (the 20B run: fp16 model, fp32 master weights and Adam, fp32 loss)', () => {
  it('keeps parameters, activations, logits and gradients in binary16 and master weights in float32', () => {
    const t = new Trainer(options());
    const r = t.step(tokens);
    expect(r.skipped).toBe(false);
    expect(r.lossScale).toBe(4096);
    for (const p of t.model.params.list) {
      expect(isF16(p.data), p.name).toBe(true);
      expect(isF16(p.grad), p.name).toBe(true);
    }
    expect(isF16(t.model.logits)).toBe(true);
    // The master copies carry the update at float32 resolution, which binary16 parameters cannot hold.
    const s = t.optimizer.states.find((x) => x.param.name === 'embed_out.weight')!;
    expect(s.master).not.toBe(s.param.data);
    expect(isF16(s.master)).toBe(false);
    expect(Array.from(s.master, f16round)).toEqual(Array.from(s.param.data));
    expect(s.m.some((v) => v !== 0 && f16round(v) !== v)).toBe(true);
  });

  it('tracks the fp64 run closely: same loss to 1e-3, grad norm to 1e-2', () => {
    const r16 = new Trainer(options()).step(tokens);
    const r64 = new Trainer(options({ precision: 'fp64' })).step(tokens);
    expect(Math.abs(r16.loss - r64.loss) / r64.loss).toBeLessThan(1e-3);
    expect(Math.abs(r16.gradNorm - r64.gradNorm) / r64.gradNorm).toBeLessThan(1e-2);
  });

  it('an overflowing step is skipped: weights, master weights, Adam state and schedule stay untouched', () => {
    // With this model and sequence, a loss scale of 2^18 overflows binary16 in the backward pass and 2^17
    // does not (found by running it; the run is deterministic).
    const t = new Trainer(options({ gradientAccumulationSteps: 1, lossScaler: { initialScalePower: 18 } }));
    const tokens = g.train.tokens.subarray(0, seq + 1);
    const before = snapshot(t);
    const masterBefore = masters(t);
    const results = [t.step(tokens), t.step(tokens)];
    expect(results.map((r) => [r.skipped, r.lossScale])).toEqual([[true, 2 ** 18], [true, 2 ** 18]]);
    expect(Number.isNaN(results[0]!.gradNorm)).toBe(true);
    expect(snapshot(t)).toEqual(before);
    expect(masters(t)).toEqual(masterBefore);
    expect(t.optimizer.steps).toBe(0);
    expect(t.optimizer.states.every((s) => s.m.every((v) => v === 0) && s.v.every((v) => v === 0))).toBe(true);
    expect(t.schedule.numIters).toBe(0);
    expect(t.iteration).toBe(2);
    // First overflow spent the hysteresis, the second halved the scale; keep going until a step fits.
    expect(t.scaler!.scale).toBe(2 ** 17);
    const r = t.step(tokens);
    expect([r.skipped, r.lossScale]).toEqual([false, 2 ** 17]);
    expect(t.optimizer.steps).toBe(1);
    expect(t.schedule.numIters).toBe(1);
    expect(snapshot(t)).not.toEqual(before);
  });

  it('an overflow at the minimum loss scale raises and leaves the weights as they were', () => {
    const t = new Trainer(options({ lossScaler: { initialScalePower: 0, hysteresis: 1, minScale: 1 } }));
    // Weights that overflow binary16 in the forward pass at any loss scale: every logit is 64 × 60000.
    t.model.params.get('gpt_neox.final_layer_norm.bias').data.fill(60000);
    t.model.params.get('embed_out.weight').data.fill(1);
    t.optimizer.loadMasterFromParams();
    const before = snapshot(t);
    expect(() => t.step(tokens)).toThrow(LossScaleAtMinimumError);
    expect(snapshot(t)).toEqual(before);
    expect(t.optimizer.steps).toBe(0);
  });
});

describe('determinism and gradient accumulation', () => {
  it.each(['fp64', 'fp32', 'fp16'] as const)('%s: two runs are bit-identical', (precision) => {
    const run = () => {
      const t = new Trainer(options({ precision }));
      const results = [t.step(tokens), t.step(tokens)];
      return { results, params: snapshot(t).map((a) => Buffer.from(a.buffer).toString('base64')) };
    };
    expect(run()).toEqual(run());
  });

  it('a different seed gives different weights', () => {
    const a = new Trainer(options({ precision: 'fp32' }));
    const b = new Trainer(options({ precision: 'fp32', seed: g.seed + 1 }));
    expect(snapshot(a)).not.toEqual(snapshot(b));
  });

  it('2 micro-batches of 1 equal 1 micro-batch of 2 (fp64): the loss is scaled by 1/GAS', () => {
    const t1 = new Trainer(options({ precision: 'fp64', microBatchSize: 1, gradientAccumulationSteps: 2 }));
    const t2 = new Trainer(options({ precision: 'fp64', microBatchSize: 2, gradientAccumulationSteps: 1 }));
    const [r1, r2] = [t1.step(tokens), t2.step(tokens)];
    expect(r1.loss).toBeCloseTo(r2.loss, 13);
    expect(r1.gradNorm).toBeCloseTo(r2.gradNorm, 13);
    t1.model.params.list.forEach((p, i) => {
      const q = t2.model.params.list[i]!;
      for (let j = 0; j < p.size; j += 97) expect(p.data[j]).toBeCloseTo(q.data[j]!, 12);
    });
  });
});
