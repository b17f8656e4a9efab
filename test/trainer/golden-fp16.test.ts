import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { f16round } from '../../src/backends/f16.js';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { DType, Kernels } from '../../src/backends/kernels.js';
import { createWasmKernels } from '../../src/backends/wasm/index.js';
import { headDim, rotaryDims } from '../../src/model/config.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { goldenDir, inputsAndLabels, keyBiasNullSpace, loadGoldenFp16, relErr, rmsRelErr } from './helpers/golden.js';

/**
 * The trainer's fp16 mixed-precision mode against an independent emulation of its cast points
 * (tools/reference/fp16_training.py: each kernel exact in float64, binary16 rounding at every stored
 * activation and gradient, float32 master weights and Adam, loss scale 2^12). The trainer's kernels compute
 * in float32, so a float32 rounding error now and then moves a value across a binary16 rounding boundary:
 * the two then differ by one binary16 ulp there, and that difference travels on. The bounds
 * (docs/numerics.md §9, "fp16 against the emulated reference") sit about 1.5–2× above the errors measured
 * on both backends; skipping the binary16 rounding of dlogits, for one, exceeds them.
 */
const TOL = {
  loss: 5e-5, // measured ≤ 1.0e-5 (a float64 mean of float32 row losses of identical or 1-ulp-apart logits)
  logitsMax: 1e-3, // one binary16 ulp (2^-10) of the largest logit's binade; measured 4.5e-4
  logitsRms: 4e-4, // measured 2.7e-4
  gradMax: 2e-3, // per tensor, max|Δ|/max|ref|: two binary16 ulps; measured ≤ 1.02e-3
  gradRms: 1e-3, // per tensor, rms(Δ)/rms(ref); measured ≤ 7.0e-4
  gradMeanRms: 5e-4, // the mean of the per-tensor rms over all 28 tensors; measured ≤ 4.14e-4
  stepLoss: 5e-5, // measured ≤ 1.2e-5
  gradNorm: 1e-4, // measured ≤ 1.8e-5
  masterMax: 2e-3, // per tensor, relative to max|ref|, plus masterLr·Σlr (Adam, see below)
  masterLr: 0.4, // measured ≤ 0.21·Σlr
  masterMeanRms: 7e-4, // mean of the per-tensor rms outside the null space; measured ≤ 5.1e-4
  nullSpace: 2.5, // ·Σlr: two Adam trajectories of noise; measured ≤ 1.83·Σlr
} as const;

const BACKENDS: [string, (dtype: DType) => Kernels][] = [['js', createJsKernels], ['wasm', createWasmKernels]];
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;

describe.each(BACKENDS)('fp16 golden case tiny, %s backend', (_, backend) => {
  const g = loadGoldenFp16('tiny');
  const seq = g.model.seqLength;

  it('starts from the fp64 golden case\'s initial parameters and tokens', () => {
    const tiny = JSON.parse(readFileSync(join(goldenDir, 'tiny.json'), 'utf8'));
    expect(g.initSha256).toBe(tiny.initSha256);
    expect(g.seed).toBe(tiny.seed);
    expect(g.model).toEqual(tiny.model);
  });

  it('forward and backward at loss scale 2^12: logits, loss and every unscaled master gradient', () => {
    const t = new Trainer({ model: g.model, precision: 'fp16', backend, seed: g.seed });
    const rows = g.forward.batch * seq;
    const ids = t.model.K.allocIds(rows);
    const labels = t.model.K.allocIds(rows);
    inputsAndLabels(g.forward.tokens, g.forward.batch, seq, ids, labels);
    const loss = t.model.forward(ids, labels, g.forward.batch, seq);
    t.model.zeroGrads();
    t.model.backward(g.forward.lossScale / rows);
    // The trainer's own unscale: float32 master grads = binary16 grads · (1/2^12), exact.
    t.optimizer.takeGrads(1 / g.forward.lossScale);

    expect(Math.abs(loss - g.forward.loss) / g.forward.loss).toBeLessThan(TOL.loss);
    expect(relErr(t.model.logits, g.forward.logits)).toBeLessThan(TOL.logitsMax);
    expect(rmsRelErr(t.model.logits, g.forward.logits)).toBeLessThan(TOL.logitsRms);
    expect(t.optimizer.states.length).toBe(g.forward.grads.size);
    const rms: number[] = [];
    for (const s of t.optimizer.states) {
      const ref = g.forward.grads.get(s.param.name)!;
      expect(ref, s.param.name).toBeDefined();
      expect(relErr(s.grad, ref), s.param.name).toBeLessThan(TOL.gradMax);
      rms.push(rmsRelErr(s.grad, ref));
      expect(rms.at(-1), s.param.name).toBeLessThan(TOL.gradRms);
    }
    expect(mean(rms)).toBeLessThan(TOL.gradMeanRms);
  });

  it('3 AdamW steps (loss scale 2^12, gradient accumulation, clipping, schedule): per-step values and master weights', () => {
    const t = g.train;
    const width = t.microBatchSize * t.gradientAccumulationSteps * (seq + 1);
    const lrSum = t.lrs.reduce((a, b) => a + b, 0);
    const trainer = new Trainer({
      model: g.model, precision: 'fp16', backend, seed: g.seed, microBatchSize: t.microBatchSize,
      gradientAccumulationSteps: t.gradientAccumulationSteps, optimizer: t.optimizer, schedule: t.schedule, clipGrad: t.clipGrad,
    });
    for (let s = 0; s < t.steps; s++) {
      const r = trainer.step(t.tokens.subarray(s * width, (s + 1) * width));
      expect(r.skipped).toBe(false);
      expect(r.lossScale).toBe(t.lossScales[s]);
      expect(r.lr).toBe(t.lrs[s]);
      expect(Math.abs(r.loss - t.losses[s]!) / t.losses[s]!).toBeLessThan(TOL.stepLoss);
      expect(Math.abs(r.gradNorm - t.gradNorms[s]!) / t.gradNorms[s]!).toBeLessThan(TOL.gradNorm);
      expect(r.gradNorm > t.clipGrad).toBe(t.clipped[s]);
    }
    const nullSpace = keyBiasNullSpace(g.model.numHeads, headDim(g.model), rotaryDims(g.model));
    const rms: number[] = [];
    for (const s of trainer.optimizer.states) {
      const ref = t.master.get(s.param.name)!;
      const skip = s.param.name.endsWith('attention.query_key_value.bias') ? nullSpace : new Set<number>();
      let diff = 0, scale = 0, skipped = 0, d2 = 0, r2 = 0;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(s.master[i]! - ref[i]!);
        scale = Math.max(scale, Math.abs(ref[i]!));
        if (skip.has(i)) skipped = Math.max(skipped, d);
        else {
          diff = Math.max(diff, d);
          d2 += d * d;
          r2 += ref[i]! * ref[i]!;
        }
      }
      expect(diff, s.param.name).toBeLessThan(TOL.masterMax * scale + TOL.masterLr * lrSum);
      expect(skipped, s.param.name).toBeLessThan(TOL.nullSpace * lrSum);
      rms.push(Math.sqrt(d2 / r2));
      // The model's binary16 parameters are the master weights rounded once.
      expect(Array.from(s.param.data), s.param.name).toEqual(Array.from(s.master, f16round));
    }
    expect(mean(rms)).toBeLessThan(TOL.masterMeanRms);
  });
});
