import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import { getPreset } from '../../src/model/presets.js';
import { bytesToTokens, SampleStream } from '../../src/trainer/data/byte-tokens.js';
import { initParams } from '../../src/trainer/model/init.js';
import { neoxParamSpecs, ParamStore } from '../../src/trainer/model/params.js';
import { Trainer } from '../../src/trainer/trainer.js';

describe('parameters: HF GPTNeoX names and layouts, gpt-neox init', () => {
  const cfg = { ...getPreset('neox-tiny'), numLayers: 4, hiddenSize: 128, ffnHiddenSize: 512 };
  const specs = neoxParamSpecs(cfg);

  it('lists the state dict in HF order with [out, in] weights', () => {
    expect(specs.slice(0, 13).map((s) => `${s.name} ${s.shape.join('x')}`)).toEqual([
      'gpt_neox.embed_in.weight 128x128',
      'gpt_neox.layers.0.input_layernorm.weight 128',
      'gpt_neox.layers.0.input_layernorm.bias 128',
      'gpt_neox.layers.0.post_attention_layernorm.weight 128',
      'gpt_neox.layers.0.post_attention_layernorm.bias 128',
      'gpt_neox.layers.0.attention.query_key_value.weight 384x128',
      'gpt_neox.layers.0.attention.query_key_value.bias 384',
      'gpt_neox.layers.0.attention.dense.weight 128x128',
      'gpt_neox.layers.0.attention.dense.bias 128',
      'gpt_neox.layers.0.mlp.dense_h_to_4h.weight 512x128',
      'gpt_neox.layers.0.mlp.dense_h_to_4h.bias 512',
      'gpt_neox.layers.0.mlp.dense_4h_to_h.weight 128x512',
      'gpt_neox.layers.0.mlp.dense_4h_to_h.bias 128',
    ]);
    expect(specs.slice(-3).map((s) => s.name)).toEqual(['gpt_neox.final_layer_norm.weight', 'gpt_neox.final_layer_norm.bias', 'embed_out.weight']);
    // 12h² + 13h per layer (neox-20b.md §2.12), plus two embeddings and the final LayerNorm.
    const count = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    expect(count).toBe(4 * (12 * 128 ** 2 + 13 * 128) + 2 * 128 * 128 + 2 * 128);
  });

  it('decays weights only: no weight decay on biases and LayerNorm parameters', () => {
    const noDecay = specs.filter((s) => !s.decay).map((s) => s.name);
    expect(noDecay.every((n) => n.endsWith('.bias') || n.includes('layernorm') || n.includes('layer_norm'))).toBe(true);
    expect(specs.filter((s) => s.decay).every((s) => s.shape.length === 2)).toBe(true);
  });

  it('small_init σ = √(2/5h) and wang_init σ = 2/(L√h) as drawn; LayerNorm 1, biases 0', () => {
    const K = createJsKernels('f64');
    const store = new ParamStore(K, specs);
    initParams(K, store, 42);
    const std = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((a, v) => a + v * v, 0) / x.length);
    const small = Math.sqrt(2 / (5 * 128));
    const wang = 2 / 4 / Math.sqrt(128);
    expect(std(store.get('gpt_neox.layers.2.mlp.dense_h_to_4h.weight').data) / small).toBeCloseTo(1, 1);
    expect(std(store.get('embed_out.weight').data) / small).toBeCloseTo(1, 1);
    expect(std(store.get('gpt_neox.layers.2.mlp.dense_4h_to_h.weight').data) / wang).toBeCloseTo(1, 1);
    expect(std(store.get('gpt_neox.layers.0.attention.dense.weight').data) / wang).toBeCloseTo(1, 1);
    expect(store.get('gpt_neox.layers.1.input_layernorm.weight').data.every((v) => v === 1)).toBe(true);
    expect(store.get('gpt_neox.layers.1.attention.query_key_value.bias').data.every((v) => v === 0)).toBe(true);
  });
});

describe('byte-token data', () => {
  it('cuts seq+1-token samples every seq tokens and visits them in a seeded order, reshuffled per epoch', () => {
    const tokens = bytesToTokens(Buffer.from('abcdefghijklmnopqrstuvwxy'), 128, 'x');
    const s = new SampleStream(tokens, 4, 9, 'x');
    expect(s.samples).toBe(6);
    const first = s.take(6);
    const starts = Array.from({ length: 6 }, (_, r) => first[r * 5]! - 97).sort((a, b) => a - b);
    expect(starts).toEqual([0, 4, 8, 12, 16, 20]);
    for (let r = 0; r < 6; r++) for (let j = 1; j < 5; j++) expect(first[r * 5 + j]).toBe(first[r * 5]! + j);
    const second = s.take(6);
    expect(Array.from(second)).not.toEqual(Array.from(first));
    expect(Array.from(new SampleStream(tokens, 4, 9, 'x').take(12))).toEqual([...first, ...second]);
  });

  it('rejects text too short for one sequence', () => {
    expect(() => new SampleStream(new Int32Array(4), 4, 1, 'short.txt')).toThrow('short.txt: length: expected at least 5 tokens for one sequence, got 4');
  });
});

describe("DeeperSpeed ZeRO-1's optimizer step counter", () => {
  it('zero1StepQuirk makes the first real update use t = 2 in bias correction', () => {
    const cfg = getPreset('neox-tiny');
    const tokens = Int32Array.from({ length: 17 }, (_, i) => (i * 13) % 128);
    const schedule = { lr: 1e-2, minLr: 0, warmupIters: 0, decayIters: 10, style: 'constant' as const };
    const run = (zero1StepQuirk: boolean) => {
      const t = new Trainer({ model: cfg, precision: 'fp64', backend: createJsKernels, optimizer: { zero1StepQuirk }, schedule });
      t.step(tokens);
      return t.model.params.get('embed_out.weight').data[5]!;
    };
    const init = new Trainer({ model: cfg, precision: 'fp64', backend: createJsKernels }).model.params.get('embed_out.weight').data[5]!;
    // Step 1 without the quirk moves each weight by ≈ lr (m̂/√v̂ = ±1); with it, by (0.1/0.19)/√(0.05/0.0975) ≈ 0.73·lr.
    const plain = Math.abs(run(false) - init) / 1e-2;
    const quirk = Math.abs(run(true) - init) / 1e-2;
    expect(plain).toBeCloseTo(1, 2);
    expect(quirk).toBeCloseTo((0.1 / 0.19) / Math.sqrt(0.05 / 0.0975), 2);
  });
});
