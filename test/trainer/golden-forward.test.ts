import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import { headDim, rotaryDims } from '../../src/model/config.js';
import { copyIn, initParams } from '../../src/trainer/model/init.js';
import { NeoXModel } from '../../src/trainer/model/neox.js';
import { goldenNames, inputsAndLabels, keyBiasNullSpace, loadGolden, relErr } from './helpers/golden.js';

/**
 * Logits, loss and every parameter gradient against the independent PyTorch float64 reference
 * (tools/reference/neox_reference.py). Norm: per tensor, max|ours − ref| / max|ref|.
 */
const TOLERANCE = { f64: 1e-12, f32: 1e-5 } as const;

describe.each(goldenNames())('golden forward/backward: %s', (name) => {
  const g = loadGolden(name);
  const seq = g.model.seqLength;
  const rows = g.forward.batch * seq;

  const runs = new Map<string, ReturnType<typeof compute>>();
  const run = (dtype: 'f64' | 'f32') => runs.get(dtype) ?? runs.set(dtype, compute(dtype)).get(dtype)!;

  function compute(dtype: 'f64' | 'f32') {
    const K = createJsKernels(dtype);
    const model = new NeoXModel(g.model, K);
    initParams(K, model.params, g.seed);
    const ids = K.allocIds(rows);
    const labels = K.allocIds(rows);
    inputsAndLabels(g.forward.tokens, g.forward.batch, seq, ids, labels);
    const loss = model.forward(ids, labels, g.forward.batch, seq);
    model.zeroGrads();
    model.backward(1 / rows);
    return { model, loss };
  }

  it('starts from the parameters the reference used (seeded init, bit for bit)', () => {
    const K = createJsKernels('f64');
    const model = new NeoXModel(g.model, K);
    initParams(K, model.params, g.seed);
    const hash = createHash('sha256');
    for (const p of model.params.list) hash.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    expect(hash.digest('hex')).toBe(g.initSha256);
  });

  it.each(['f64', 'f32'] as const)('%s: logits, loss and every gradient within tolerance', (dtype) => {
    const { model, loss } = run(dtype);
    const tol = TOLERANCE[dtype];
    expect(Math.abs(loss - g.forward.loss) / g.forward.loss).toBeLessThan(tol);
    expect(relErr(model.logits, g.forward.logits)).toBeLessThan(tol);
    expect(model.params.list.length).toBe(g.forward.grads.size);
    for (const p of model.params.list) {
      const ref = g.forward.grads.get(p.name);
      expect(ref, p.name).toBeDefined();
      expect(relErr(p.grad, ref!), p.name).toBeLessThan(tol);
    }
  });

  it('fp16: the mixed-precision forward is bit-identical to the PyTorch emulation of the same cast points', () => {
    // From the trained parameters (non-zero biases, LayerNorm weights ≠ 1), rounded directly to binary16.
    const K = createJsKernels('f16');
    const model = new NeoXModel(g.model, K, createJsKernels('f32'));
    for (const p of model.params.list) copyIn(K, g.train.params.get(p.name)!, p.data);
    const ids = K.allocIds(rows);
    const labels = K.allocIds(rows);
    inputsAndLabels(g.forward.tokens, g.forward.batch, seq, ids, labels);
    const loss = model.forward(ids, labels, g.forward.batch, seq);
    const ref = g.forward.fp16.logits;
    let differing = 0;
    for (let i = 0; i < ref.length; i++) if (model.logits[i] !== ref[i]) differing++;
    expect(differing).toBe(0);
    // The loss sums float32 per-row losses in another order (torch's cross_entropy), hence a tolerance.
    expect(Math.abs(loss - g.forward.fp16.loss) / g.forward.fp16.loss).toBeLessThan(1e-6);
  });

  it('the key bias outside the rotary dims has zero gradient in both implementations', () => {
    const { model } = run('f64');
    const nullSpace = keyBiasNullSpace(g.model.numHeads, headDim(g.model), rotaryDims(g.model));
    for (let i = 0; i < g.model.numLayers; i++) {
      const name = `gpt_neox.layers.${i}.attention.query_key_value.bias`;
      const ref = g.forward.grads.get(name)!;
      const ours = model.params.get(name).grad;
      const scale = Math.max(...Array.from(ref, Math.abs));
      for (const j of nullSpace) {
        expect(Math.abs(ref[j]!)).toBeLessThan(1e-13 * scale);
        expect(Math.abs(ours[j]!)).toBeLessThan(1e-13 * scale);
      }
    }
  });
});
