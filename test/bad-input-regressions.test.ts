import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/common/atomic-write.js';
import { InputError } from '../src/common/errors.js';
import { createJsKernels } from '../src/backends/js/index.js';
import type { Kernels } from '../src/backends/kernels.js';
import { getPreset } from '../src/model/presets.js';
import { loadCheckpoint } from '../src/trainer/checkpoint/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../src/trainer/checkpoint/safetensors.js';
import { Trainer } from '../src/trainer/trainer.js';
import { checkTrainerFits, trainerParamCount } from '../src/trainer/validate.js';
import { makePlan, MAX_STEP_UNITS, stepUnits, validatePlan } from '../src/workload/plan.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bad input found by fuzzing the CLI: each must end in one `neox-sim: …` line and exit 2, not a crash, a hang or Infinity. */
describe('flags fuzzing found', () => {
  it.each([
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--mbs', '9007199254740993'], '--mbs'],
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--gas', '9007199254740993'], '--gas'],
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--gas', '99999999999'], '--gas'],
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--ckpt-write-bw', '1e309'], '--ckpt-write-bw'],
    [['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '8', '--workers', '99999999999'], '--workers'],
    [['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '8', '--price-per-gpu-hour', '1e309'], '--price-per-gpu-hour'],
    [['collective', 'all-reduce', '--ranks', '0-999999999'], '--ranks'],
    [['collective', 'all-reduce', '--min-bytes', '1', '--max-bytes', '8T', '--step-bytes', '1'], '--step-bytes'],
    [['collective', 'all-reduce', '--min-bytes', '1', '--max-bytes', '1G', '--step-factor', '1.0000001'], '--step-factor'],
    [['cluster', 'show', 'supermicro12', '--nodes', '9007199254740993'], '--nodes'],
    [['model', 'show', 'neox-tiny', '--seq', '9007199254740993'], '--seq'],
    [['model', 'show', 'neox-tiny', '--pp', '1000000000'], 'pipe-parallel size'],
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--trace', ''], 'output path'],
    [['simulate', '--model', 'neox-tiny', '--nodes', '1', '--arrow', ''], 'output path'],
  ])('%j', (args, flag) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^neox-sim: .+\n$/);
    expect(r.stderr).toContain(flag);
  });
});

describe('validatePlan bounds the simulated step', () => {
  const cfg = getPreset('neox-tiny');
  it.each([
    ['gradAccumSteps', { gradAccumSteps: 2 ** 53 + 1 }],
    ['microBatch', { microBatch: 2 ** 53 }],
    ['gradAccumSteps', { dp: 8, gradAccumSteps: 1e6 }],
  ])('%s', (field, fields) => {
    expect(() => validatePlan(cfg, makePlan(cfg, fields))).toThrow(new RegExp(`^plan: ${field}: expected`));
  });
  it('keeps the largest published run (Megatron 1T: 3,072 GPUs, 512 micro-batches, 128 layers on 64 stages) inside the bound', () => {
    const big = { ...getPreset('neox-20b'), numLayers: 128 };
    expect(stepUnits(big, makePlan(big, { tp: 8, pp: 64, dp: 6, gradAccumSteps: 512 }))).toBeLessThan(MAX_STEP_UNITS);
  });
});

describe('safetensors fuzzing found', () => {
  const good = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const file = (header: Record<string, unknown>) => {
    const json = Buffer.from(JSON.stringify(header).padEnd(64, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, Buffer.alloc(8)]);
  };
  it.each([
    ['string offsets', { x: { ...good, data_offsets: ['0', '8'] } }, 'x.data_offsets'],
    ['fractional offsets', { x: { ...good, data_offsets: [0.5, 8.5] } }, 'x.data_offsets'],
    ['a null entry', { x: null }, 'x'],
    ['a number as metadata', { __metadata__: 5, x: good }, '__metadata__'],
  ])('%s', (_, header, field) => {
    expect(() => decodeSafetensors(file(header), 'c.safetensors')).toThrow(InputError);
    expect(() => decodeSafetensors(file(header), 'c.safetensors')).toThrow(`c.safetensors: ${field}: expected`);
  });
  it('rejects non-finite weights', async () => {
    const path = join(dir, 'nan.safetensors');
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: [1, NaN] }]);
    (await import('node:fs')).writeFileSync(path, bytes);
    expect(() => loadCheckpoint(path, [{ name: 'w', shape: [2] } as never])).toThrow(`${path}: w[1]: expected a finite weight, got NaN`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('train: a model or batch too large to allocate is bad input, checked before allocating', () => {
  it.each([
    ['1000000000', 'js', /^neox-sim: model huge: hiddenSize: expected a size whose largest buffer fits a typed array \(at most 4,294,967,296 elements; embed_in\.weight \[128 × 1000000000\] has 128,000,000,000\), got 1000000000\n$/],
    ['1e15', 'wasm', /^neox-sim: model huge: hiddenSize: expected a size whose largest buffer fits a typed array .+, got 1000000000000000\n$/],
    ['16384', 'wasm', /^neox-sim: model huge: parameters: expected a model whose training state fits the wasm backend's 4 GiB memory \(numLayers 2, hiddenSize 16384, .+\), got \d+\n$/],
  ])('hidden-size %s on the %s backend', (hidden, backend, message) => {
    const yml = join(dir, 'huge.yml');
    expect(runCli(['model', 'export', 'neox-tiny', '--out', yml]).status).toBe(0);
    writeFileSync(yml, readFileSync(yml, 'utf8').replace(/"hidden-size": \d+/, `"hidden-size": ${hidden}`));
    const r = runCli(['train', '--config', yml, '--steps', '1', '--batch', '1', '--backend', backend]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
  it('train --micro-batches 99999999999 (a step of 1.7e12 token ids)', () => {
    const r = runCli(['train', '--model', 'neox-tiny', '--steps', '1', '--batch', '1', '--backend', 'js', '--micro-batches', '99999999999']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^neox-sim: trainer: gradientAccumulationSteps: expected a size whose largest buffer fits a typed array .+, got 99999999999\n$/);
  });
  const tiny = getPreset('neox-tiny');
  const js = createJsKernels('f32');
  const shape = { model: js, master: js, microBatchSize: 1, gradientAccumulationSteps: 1, seqLength: 16, attention: 'materialized' } as const;
  it('counts the parameters the trainer allocates', () => {
    for (const cfg of [tiny, { ...tiny, numLayers: 3, ffnHiddenSize: 96, vocabSize: 200 }]) expect(trainerParamCount(cfg)).toBe(new Trainer({ model: cfg, backend: createJsKernels }).model.params.count());
  });
  it('bounds the js backend by the machine memory and the wasm backend by its 4 GiB', () => {
    expect(() => checkTrainerFits(tiny, shape, 1e6)).toThrow(/^model neox-tiny: parameters: expected a model whose training state fits this machine's 0\.0 GiB of memory/);
    expect(() => checkTrainerFits(tiny, { ...shape, microBatchSize: 40_000 }, 4e9)).toThrow(/^trainer: microBatchSize × seqLength: expected a batch whose activations and token ids fit .+, got 640000$/);
    const wasm = (dtype: 'f16' | 'f32') => ({ ...js, name: `wasm-${dtype}`, dtype }) as Kernels;
    const wide = { ...tiny, hiddenSize: 8192, ffnHiddenSize: 32768 }; // 1.6 G parameters: 26 GiB in fp16 with fp32 master weights
    expect(() => checkTrainerFits(wide, { ...shape, model: wasm('f16'), master: wasm('f32') }, 2 ** 50)).toThrow(/^model neox-tiny: parameters: expected a model whose training state fits the wasm backend's 4 GiB memory/);
    expect(() => checkTrainerFits(tiny, { ...shape, model: wasm('f16'), master: wasm('f32') }, 2 ** 50)).not.toThrow();
  });
});

describe('simulate: a run that fails faster than it recovers never finishes', () => {
  it.each([
    [['--mtbf-hours', '1.5'], /the expected time between failures \(0\.2 h: MTBF 1\.5 GPU-hours \/ 8 GPUs\) is shorter than what each failure costs \(0\.5 h:/],
    [['--restart-minutes', '99999999999'], /the run never finishes: the expected time between failures \(6334\.6 h: MTBF 50,677 GPU-hours/],
  ])('%j', (flags, why) => {
    const args = ['simulate', '--model', 'neox-tiny', '--nodes', '1', '--gas', '1', '--steps', '10', ...flags];
    const text = runCli(args);
    expect(text.status).toBe(0);
    expect(text.stdout).not.toMatch(/Infinity|NaN/);
    expect(text.stdout).toMatch(/^total wall-clock +never ends +1,830 h$/m);
    expect(text.stdout).toMatch(why);
    const json = JSON.parse(runCli([...args, '--json']).stdout);
    expect(json.run).toMatchObject({ totalSeconds: null, gpuHours: null, failures: { expectedFailures: null, lostSeconds: null } });
  });
});

describe('output paths that cannot take a file: one line, exit 2, nothing written', () => {
  const file = join(dir, 'plain.txt');
  writeFileSync(file, 'x');
  const text = join(dir, 'in.txt');
  writeFileSync(text, 'hello world');
  const outputs: [string, (o: string) => string[]][] = [
    ['simulate --trace', (o) => ['simulate', '--model', 'neox-tiny', '--nodes', '1', '--gas', '1', '--trace', o]],
    ['model export --out', (o) => ['model', 'export', 'neox-tiny', '--out', o]],
    ['train --save', (o) => ['train', '--model', 'neox-tiny', '--steps', '1', '--batch', '1', '--backend', 'js', '--save', o]],
    ['data preprocess --output-prefix', (o) => ['data', 'preprocess', '--input', text, '--tokenizer', 'bytes', '--output-prefix', o]],
  ];
  it.each(outputs)('%s', (_, args) => {
    // A directory as the prefix is a legal prefix (it writes DIR_text_document.bin beside it), so preprocess gets only the second.
    const cases = [[dir, 'a directory'], [`${file}/x`, 'ENOTDIR (not a directory)']] as const;
    for (const [o, got] of args('').includes('preprocess') ? cases.slice(1) : cases) {
      const r = runCli(args(o));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^neox-sim: .+: expected a path where a file can be written, got ".+"\n$/);
      expect(r.stderr).toContain(`got "${got}"`);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.includes('_text_document'))).toEqual([]);
  });
  it('a directory path as --output-prefix, and an empty path', () => {
    expect(runCli(outputs[3]![1](`${dir}/`)).stderr).toMatch(/^neox-sim: --output-prefix: expected a path prefix such as data\/mydataset, not a directory/);
    expect(() => writeFileAtomic('', 'x')).toThrow('output path: expected a path where a file can be written, got ""');
  });
});

describe('gpt-neox YAML', () => {
  it.each(['1000000000', '1e15'])('num-layers %s', (layers) => {
    const yml = join(dir, 'deep.yml');
    expect(runCli(['model', 'export', 'neox-tiny', '--out', yml]).status).toBe(0);
    writeFileSync(yml, readFileSync(yml, 'utf8').replace(/"num-layers": \d+/, `"num-layers": ${layers}`));
    const r = runCli(['model', 'show', '--config', yml]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`neox-sim: ${yml}: num-layers: expected at most 16,384 layers (published dense models have at most a few hundred), got ${Number(layers)}\n`);
  });
  it('an alias bomb is invalid YAML, not a crash', () => {
    const yml = join(dir, 'bomb.yml');
    const level = (name: string, prev: string) => `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
    writeFileSync(yml, ['a: &a ["x","x","x","x","x","x","x","x","x"]', level('b', 'a'), level('c', 'b'), level('d', 'c'), level('e', 'd'), level('f', 'e'), 'g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]', ''].join('\n'));
    const r = runCli(['model', 'show', '--config', yml]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`neox-sim: ${yml}: (top level): expected valid YAML, got "Excessive alias count indicates a resource exhaustion attack"\n`);
  });
});

describe('a missing command or subcommand: the usage on stdout and one line on stderr, exit 2', () => {
  it.each([
    [[], /^neox-sim: expected a command, one of .*simulate.* \(none given\)\n$/],
    [['model'], /^neox-sim: model: subcommand: expected one of show, export, list \(none given\)\n$/],
    [['data'], /^neox-sim: data: subcommand: expected preprocess \(none given\)\n$/],
    [['collective'], /^neox-sim: collective: <op>: expected one of all-reduce, .* \(none given\)\n$/],
    [['profiles'], /^neox-sim: profiles: subcommand: expected validate \(none given\)\n$/],
    [['cluster'], /^neox-sim: cluster: subcommand: expected show \(none given\)\n$/],
  ])('%j', (args, message) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/Usage: neox-sim/);
    expect(r.stderr).toMatch(message);
  });
});

describe('an empty path is bad input, not an absent flag', () => {
  it.each(['--save', '--load', '--data', '--data-prefix'])('train %s ""', (flag) => {
    const r = runCli(['train', '--model', 'neox-tiny', '--steps', '1', '--batch', '1', '--backend', 'js', flag, '']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`neox-sim: ${flag}: expected a file path, got ""\n`);
  });
  it('cluster show --gpu "" (it showed the server\'s own GPU)', () => {
    const r = runCli(['cluster', 'show', 'supermicro12', '--gpu', '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^neox-sim: supermicro12: gpu: expected one of a100-40gb, .*got ""\n$/);
  });
  it('data preprocess --input ""', () => {
    const r = runCli(['data', 'preprocess', '--input', '', '--output-prefix', join(dir, 'o')]);
    expect(r.stderr).toBe('neox-sim: --input: expected a file path, got ""\n');
    expect(r.status).toBe(2);
  });
});

describe('runs file fuzzing found', () => {
  it('model.layers 1e15 (crashed building the layer list)', () => {
    const runs = JSON.parse(readFileSync(new URL('../validation/published-runs.json', import.meta.url), 'utf8'));
    const path = join(dir, 'runs.json');
    writeFileSync(path, JSON.stringify([{ ...runs[0], model: { ...runs[0].model, layers: 1e15 } }]));
    const r = runCli(['validate', '--runs', path, '--jobs', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`neox-sim: ${path}: ${runs[0].id}: model.layers: expected a positive integer at most 16,384, got 1000000000000000\n`);
  });
});
