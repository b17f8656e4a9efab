import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import { InputError } from '../../src/common/errors.js';
import { getPreset } from '../../src/model/presets.js';
import { Trainer } from '../../src/trainer/trainer.js';

const cfg = getPreset('neox-tiny');
const trainer = () => new Trainer({ model: cfg, backend: createJsKernels, microBatchSize: 2, seqLength: 4 });
const good = () => Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 128);

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('bad input gives an InputError naming what is wrong', () => {
  it('a token batch of the wrong size', () => {
    expect(inputError(() => trainer().step(good().subarray(1)))).toBe('tokens: length: expected 2 sequences × 5 tokens = 10, got 9');
  });

  it('out-of-range, negative, fractional and NaN token ids, with their position', () => {
    const t = trainer();
    for (const [bad, shown] of [[128, '128'], [-1, '-1'], [2.5, '2.5'], [NaN, 'NaN']] as const) {
      const tokens = Array.from(good());
      tokens[7] = bad;
      expect(inputError(() => t.step(tokens))).toBe(`tokens: [7] (sequence 1, position 2): expected an integer token id in [0, 128), got ${shown}`);
    }
  });

  it('NaN or Inf in the parameters, naming the tensor and index', () => {
    const t = trainer();
    t.model.params.get('gpt_neox.layers.1.mlp.dense_4h_to_h.weight').data[17] = NaN;
    expect(inputError(() => t.step(good()))).toBe('parameter gpt_neox.layers.1.mlp.dense_4h_to_h.weight: [17]: expected a finite value, got NaN');
    const values = new Map(t.model.params.list.map((p) => [p.name, Float64Array.from(p.data, () => 0.01)]));
    values.get('embed_out.weight')![3] = Infinity;
    expect(inputError(() => t.setParams(values, 'w.safetensors'))).toBe('w.safetensors: embed_out.weight: [3]: expected a finite value, got Infinity');
  });

  it('parameters of the wrong size or missing', () => {
    const t = trainer();
    const values = new Map(t.model.params.list.map((p) => [p.name, new Float64Array(p.size)]));
    values.set('gpt_neox.embed_in.weight', new Float64Array(5));
    expect(inputError(() => t.setParams(values, 'w'))).toBe('w: gpt_neox.embed_in.weight: expected 8192 values [128, 64], got "5 values"');
    values.delete('gpt_neox.embed_in.weight');
    expect(inputError(() => t.setParams(values, 'w'))).toMatch(/^w: gpt_neox.embed_in.weight: expected a tensor \(missing\)$/);
  });

  it('model shapes and trainer settings the trainer cannot run', () => {
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: { ...cfg, hiddenSize: 66 } }))).toMatch(/hiddenSize: expected a multiple of the number of heads \(4\), got 66/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: { ...cfg, rotaryPct: 0.2 } }))).toMatch(/rotaryPct: expected a fraction giving an even number of rotary dims/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: { ...cfg, tieWordEmbeddings: true } }))).toMatch(/tieWordEmbeddings: expected false/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: { ...cfg, positionEmbedding: 'learned' } }))).toMatch(/positionEmbedding: expected "rotary"/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, seqLength: 17 }))).toMatch(/seqLength: expected at most maxPositionEmbeddings \(16\), got 17/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, microBatchSize: 0 }))).toMatch(/microBatchSize: expected a positive integer, got 0/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, optimizer: { beta2: 1 } }))).toMatch(/beta2: expected a number in \[0, 1\), got 1/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, precision: 'fp8' as never }))).toMatch(/precision: expected fp64 \| fp32 \| fp16, got "fp8"/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, seed: 1.5 }))).toMatch(/seed: expected an integer in \[0, 2\^32\), got 1.5/);
    expect(inputError(() => new Trainer({ backend: createJsKernels, model: cfg, precision: 'fp16', lossScaler: { initialScalePower: NaN } }))).toMatch(/initialScalePower: expected an integer in \[0, 64\], got NaN/);
  });
});
