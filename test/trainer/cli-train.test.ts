import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-train-'));
const emma = join(import.meta.dirname, 'fixtures/emma.txt');

describe('neox-sim train', () => {
  it('trains a preset and prints one line per step, byte-identical across runs', () => {
    const args = ['train', '--model', 'neox-tiny', '--steps', '3', '--batch', '2', '--data', emma, '--backend', 'js'];
    const a = runCli(args);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const lines = a.stdout.trim().split('\n');
    expect(lines[0]).toBe('train neox-tiny: 116,480 parameters, fp32, js backend');
    expect(lines[1]).toMatch(/^batch 2 × 1 micro-batch\(es\) × 16 tokens; data .*emma.txt: 1247 bytes as byte tokens, 77 samples$/);
    expect(lines.filter((l) => /^\s+\d+\s+\d\.\d{4}\s/.test(l))).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/^3 steps, 0 skipped; final loss \d\.\d{4}$/);
    expect(runCli(args).stdout).toBe(a.stdout);
  });

  it('the default (fastest) backend is deterministic too, and agrees with the reference to 4 digits', () => {
    const args = ['train', '--model', 'neox-tiny', '--steps', '2', '--batch', '1', '--precision', 'fp16'];
    const a = runCli(args);
    expect(a.status).toBe(0);
    expect(runCli(args).stdout).toBe(a.stdout);
    const steps = (out: string) => out.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    expect(steps(a.stdout)).toEqual(steps(runCli([...args, '--backend', 'js']).stdout));
  });

  it('--json with fp16: loss scale, skipped flags and a saved checkpoint that --load accepts', () => {
    const ckpt = join(dir, 'tiny.safetensors');
    const r = runCli(['train', '--model', 'neox-tiny', '--steps', '2', '--batch', '1', '--precision', 'fp16', '--save', ckpt, '--json', '--backend', 'js']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model: 'neox-tiny', precision: 'fp16', parameters: 116480, skippedSteps: 0, saved: ckpt, error: null });
    expect(out.data).toMatchObject({ tokens: 'utf-8 bytes', source: 'built-in Pride and Prejudice opening' });
    expect(out.steps.map((s: { lossScale: number }) => s.lossScale)).toEqual([4096, 4096]);
    expect(out.steps[0]).toMatchObject({ step: 1, lr: 0, skipped: false });
    expect(existsSync(ckpt)).toBe(true);
    const again = runCli(['train', '--model', 'neox-tiny', '--steps', '1', '--batch', '1', '--load', ckpt, '--json', '--backend', 'js']);
    expect(again.status).toBe(0);
    // Started from the trained weights: a different first loss than a fresh seed-1234 model.
    expect(JSON.parse(again.stdout).steps[0].loss).not.toBe(out.steps[0].loss);
  });

  it.each([
    [['--model', 'neox-huge'], /^neox-sim: .*expected one of neox-20b, .*neox-tiny.*, got "neox-huge"\n$/],
    [['--model', 'neox-tiny', '--precision', 'fp8'], /^neox-sim: --precision: expected fp64 \| fp32 \| fp16, got "fp8"\n$/],
    [['--model', 'neox-tiny', '--steps', '0'], /^neox-sim: --steps: expected an integer ≥ 1, got "0"\n$/],
    [['--model', 'neox-tiny', '--lr', 'fast'], /^neox-sim: --lr: expected a finite number ≥ 0, got "fast"\n$/],
    [['--model', 'neox-tiny', '--backend', 'cuda'], /^neox-sim: --backend: expected one of js.*, got "cuda"\n$/],
    [['--model', 'neox-tiny', '--data', '/no/such/file.txt'], /^neox-sim: \/no\/such\/file.txt: expected a readable text file, got "ENOENT"\n$/],
    [['--model', 'neox-tiny', '--seq', '17'], /^neox-sim: trainer: seqLength: expected at most maxPositionEmbeddings \(16\), got 17\n$/],
    [['--model', 'neox-tiny', '--frobnicate'], /^neox-sim: Unknown option '--frobnicate'/],
  ])('bad input %j: one line on stderr, exit 2', (args, message) => {
    const r = runCli(['train', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('text with bytes outside a 128-id vocabulary is rejected with the byte offset', () => {
    const file = join(dir, 'accents.txt');
    writeFileSync(file, 'Caf\u00e9 au lait, '.repeat(5));
    const r = runCli(['train', '--model', 'neox-tiny', '--data', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`neox-sim: ${file}: byte 3: expected a byte below the model's vocabulary size 128 (byte-level tokens; use ASCII text or a model with vocab ≥ 256), got "0xc3"\n`);
  });

  it('a checkpoint of another shape is rejected and nothing is written', () => {
    const other = join(dir, 'tiny3.safetensors');
    expect(runCli(['train', '--model', 'neox-tiny3', '--steps', '1', '--batch', '1', '--save', other, '--backend', 'js']).status).toBe(0);
    const out = join(dir, 'never.safetensors');
    const r = runCli(['train', '--model', 'neox-tiny', '--load', other, '--save', out, '--backend', 'js']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`neox-sim: ${other}: gpt_neox.embed_in.weight: expected shape [128, 64], got "[128, 96]"\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('--help', () => {
    const r = runCli(['train', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: neox-sim train --model <preset>/);
  });
});
