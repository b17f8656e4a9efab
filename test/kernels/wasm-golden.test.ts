import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { DType, Kernels } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { headDim, rotaryDims } from '../../src/model/config.js';
import { initParams } from '../../src/trainer/model/init.js';
import { NeoXModel } from '../../src/trainer/model/neox.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { goldenNames, inputsAndLabels, keyBiasNullSpace, loadGolden, relErr, relErrExcept } from '../trainer/helpers/golden.js';
import { FMA_VARIANTS, useRuntimes } from './helpers/setup.js';

/**
 * The trainer's golden cases (PyTorch float64 reference) with the wasm backend in fp32, in both builds and
 * with both attention kernels: the same checks and tolerances as test/trainer/golden-*.test.ts, which run
 * the js reference backend.
 */
const TOL = 1e-5;
const runtime = useRuntimes();

const CASES = goldenNames().flatMap((name) => FMA_VARIANTS.flatMap((fma) => (['materialized', 'flash'] as const).map((attention) => [name, fma, attention] as const)));

describe.each(CASES)('wasm backend, golden case %s, fma=%s, %s attention', (name, fma, attention) => {
  const wasm = (dtype: DType): Kernels => (dtype === 'f64' ? createJsKernels(dtype) : new WasmKernels(runtime({ threads: 2, fma }), dtype));
  const g = loadGolden(name);
  const seq = g.model.seqLength;

  it('f32 logits, loss and every gradient within 1e-5 of the reference', () => {
    const K = wasm('f32');
    const model = new NeoXModel(g.model, K);
    for (const layer of model.layers) layer.attention.useVariant(attention);
    initParams(K, model.params, g.seed);
    const rows = g.forward.batch * seq;
    const ids = K.allocIds(rows);
    const labels = K.allocIds(rows);
    inputsAndLabels(g.forward.tokens, g.forward.batch, seq, ids, labels);
    const loss = model.forward(ids, labels, g.forward.batch, seq);
    model.zeroGrads();
    model.backward(1 / rows);
    expect(Math.abs(loss - g.forward.loss) / g.forward.loss).toBeLessThan(TOL);
    expect(relErr(model.logits, g.forward.logits)).toBeLessThan(TOL);
    for (const p of model.params.list) expect(relErr(p.grad, g.forward.grads.get(p.name)!), p.name).toBeLessThan(TOL);
  });

  it('fp32 training: 3 AdamW steps match the reference', () => {
    const t = g.train;
    const width = t.microBatchSize * t.gradientAccumulationSteps * (seq + 1);
    const lrSum = t.lrs.reduce((a, b) => a + b, 0);
    const nullSpace = keyBiasNullSpace(g.model.numHeads, headDim(g.model), rotaryDims(g.model));
    const trainer = new Trainer({
      model: g.model, precision: 'fp32', backend: wasm, seed: g.seed, microBatchSize: t.microBatchSize,
      gradientAccumulationSteps: t.gradientAccumulationSteps, optimizer: t.optimizer, schedule: t.schedule, clipGrad: t.clipGrad, attention,
    });
    for (let s = 0; s < t.steps; s++) {
      const r = trainer.step(t.tokens.subarray(s * width, (s + 1) * width));
      expect(r.skipped).toBe(false);
      expect(r.lr).toBe(t.lrs[s]);
      expect(Math.abs(r.loss - t.losses[s]!) / t.losses[s]!).toBeLessThan(TOL);
      expect(Math.abs(r.gradNorm - t.gradNorms[s]!) / t.gradNorms[s]!).toBeLessThan(TOL);
      expect(r.gradNorm > t.clipGrad).toBe(t.clipped[s]);
    }
    for (const p of trainer.model.params.list) {
      const ref = t.params.get(p.name)!;
      const skip = p.name.endsWith('attention.query_key_value.bias') ? nullSpace : new Set<number>();
      const { rel, skippedAbs } = relErrExcept(p.data, ref, skip);
      const scale = Math.max(...Array.from(ref, Math.abs));
      expect(rel, p.name).toBeLessThan(TOL + (1e-3 * lrSum) / scale);
      expect(skippedAbs, p.name).toBeLessThanOrEqual(lrSum);
    }
  });
});
