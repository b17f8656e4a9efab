import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import { InputError } from '../../src/common/errors.js';
import { getPreset } from '../../src/model/presets.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { runCli } from '../helpers/cli.js';

/** The attention kernel option: trainer validation and `neox-sim train --attention`. */
describe('Trainer attention option', () => {
  const model = getPreset('neox-tiny');

  it('refuses a variant the backend does not have, and an unknown one, as input errors', () => {
    expect(() => new Trainer({ model, backend: createJsKernels, attention: 'flash' })).toThrow(InputError);
    expect(() => new Trainer({ model, backend: createJsKernels, attention: 'flash' })).toThrow(
      'trainer: attention: expected materialized on the js-f32 backend (it has no flash kernel), got "flash"');
    expect(() => new Trainer({ model, precision: 'fp64', attention: 'flash' })).toThrow(/js-f64 backend/);
    expect(() => new Trainer({ model, backend: createJsKernels, attention: 'fast' as 'flash' })).toThrow(
      'trainer: attention: expected materialized | flash, got "fast"');
  });

  it('flash training on the default backend follows the materialized run to float32 rounding', () => {
    const tokens = Array.from({ length: 2 * 17 }, (_, i) => (i * 37) % 128);
    const losses = (['materialized', 'flash'] as const).map((attention) => {
      const t = new Trainer({ model, microBatchSize: 2, attention, schedule: { lr: 1e-3, minLr: 1e-4, warmupIters: 0, decayIters: 10, style: 'cosine' } });
      return [0, 1, 2].map(() => t.step(tokens).loss);
    });
    losses[0]!.forEach((l, i) => expect(Math.abs(l - losses[1]![i]!) / l).toBeLessThan(1e-5));
  });
});

describe('neox-sim train --attention', () => {
  const base = ['train', '--model', 'neox-tiny', '--steps', '2', '--batch', '1'];

  it('flash: says so in the header and the JSON, and is byte-identical across runs', () => {
    const a = runCli([...base, '--attention', 'flash']);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(a.stdout.split('\n')[0]).toBe('train neox-tiny: 116,480 parameters, fp32, wasm backend, flash attention');
    expect(runCli([...base, '--attention', 'flash']).stdout).toBe(a.stdout);
    expect(JSON.parse(runCli([...base, '--attention', 'flash', '--json']).stdout)).toMatchObject({ attention: 'flash', backend: 'wasm' });
  });

  it.each([
    [['--attention', 'fast'], 'neox-sim: --attention: expected materialized | flash, got "fast"\n'],
    [['--attention', 'flash', '--backend', 'js'], 'neox-sim: trainer: attention: expected materialized on the js-f32 backend (it has no flash kernel), got "flash"\n'],
    [['--attention', 'flash', '--precision', 'fp64'], 'neox-sim: trainer: attention: expected materialized on the js-f64 backend (it has no flash kernel), got "flash"\n'],
  ])('bad input %j: one line on stderr, exit 2', (args, message) => {
    const r = runCli([...base, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe('');
  });
});
