import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import type { NeoXConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { initParams } from '../../src/trainer/model/init.js';
import { NeoXModel } from '../../src/trainer/model/neox.js';
import { Rng } from '../../src/trainer/rng.js';

/**
 * Central finite differences in fp64 against the backward pass, for every parameter tensor: the element
 * with the largest gradient plus two seeded random ones. (L(θ+h) − L(θ−h))/2h has truncation error
 * O(h²) and rounding error O(ε·L/h); with h = 1e-5 the measured difference stays below 1e-10, so the
 * tolerance 1e-9 absolute + 1e-7 relative (about 13× the worst measured) leaves no room for a wrong term.
 */
const small = (o: Partial<NeoXConfig>): NeoXConfig => ({
  ...getPreset('neox-tiny'), numLayers: 2, hiddenSize: 32, numHeads: 2, ffnHiddenSize: 128, rotaryPct: 0.5,
  vocabSize: 100, seqLength: 6, maxPositionEmbeddings: 6, ...o,
});

const CASES: [string, NeoXConfig][] = [
  ['parallel residual, tanh GELU', small({ name: 'fd-parallel-tanh' })],
  ['sequential residual, erf GELU', small({ name: 'fd-sequential-erf', parallelResidual: false, activation: 'gelu-erf' })],
];

describe.each(CASES)('finite-difference gradients: %s', (_, cfg) => {
  it('matches the backward pass for every parameter tensor', () => {
    const K = createJsKernels('f64');
    const model = new NeoXModel(cfg, K);
    initParams(K, model.params, 7);
    // Larger-than-init LayerNorm and bias values, so their gradients are not at a symmetric point.
    const rng = new Rng(11);
    for (const p of model.params.list) if (p.init.kind === 'const') for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! + 0.3 * rng.normal();
    const batch = 2;
    const seq = cfg.seqLength;
    const ids = K.allocIds(batch * seq);
    const labels = K.allocIds(batch * seq);
    for (let i = 0; i < ids.length; i++) [ids[i], labels[i]] = [rng.below(cfg.vocabSize), rng.below(cfg.vocabSize)];
    const loss = () => model.forward(ids, labels, batch, seq);
    loss();
    model.zeroGrads();
    model.backward(1 / (batch * seq));
    const h = 1e-5;
    let checked = 0;
    for (const p of model.params.list) {
      const grad = Float64Array.from(p.grad);
      let top = 0;
      for (let i = 1; i < p.size; i++) if (Math.abs(grad[i]!) > Math.abs(grad[top]!)) top = i;
      for (const i of [top, rng.below(p.size), rng.below(p.size)]) {
        const x = p.data[i]!;
        p.data[i] = x + h;
        const up = loss();
        p.data[i] = x - h;
        const down = loss();
        p.data[i] = x;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - grad[i]!), `${p.name}[${i}]: fd ${fd} vs backward ${grad[i]}`).toBeLessThan(1e-9 + 1e-7 * Math.abs(grad[i]!));
        checked++;
      }
      expect(Math.abs(grad[top]!), `${p.name} has a non-zero gradient`).toBeGreaterThan(1e-6);
    }
    expect(checked).toBe(3 * model.params.list.length);
  });
});
