import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/common/errors.js';
import { getPreset } from '../src/model/presets.js';
import { loadCheckpoint } from '../src/trainer/checkpoint/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../src/trainer/checkpoint/safetensors.js';
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
