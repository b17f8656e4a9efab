import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const fixture = new URL('./fixtures/20B.yml', import.meta.url).pathname;
const base = readFileSync(fixture, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'neox-model-cli-'));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

/** Bad input: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
function expectBadInput(args: string[], message: RegExp) {
  const r = runCli(args);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(message);
}

describe('neox-sim model show', () => {
  it('reports the 20B accounting at TP 2, PP 4 as JSON', () => {
    const r = runCli(['model', 'show', 'neox-20b', '--tp', '2', '--pp', '4', '--micro-batch', '4', '--recompute', 'full', '--dp', '12', '--gas', '32', '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.params.unique).toBe(20_554_567_680);
    expect(s.params.printed).toBe(20_556_201_984);
    expect(s.params.surplus).toEqual({ layerNorms: 1_093_632, rowParallelBiases: 540_672, tiedEmbeddingCopy: 0 });
    expect(s.stages.map((x: { paramsPerRank: number }) => x.paramsPerRank)).toEqual([2_646_985_728, 2_492_058_624, 2_492_058_624, 2_646_998_016]);
    expect(s.flops.perToken.neoxLogger2022).toBe(156_556_099_584);
    expect(s.plan.globalBatch).toBe(1536);
    expect(s.flops.opListPerMicroBatch).toEqual(s.flops.megatronPerMicroBatch);
    expect(s.ops.layer.filter((o: { type: string; phase: string }) => o.type === 'comm' && o.phase === 'forward')).toHaveLength(1);
  });

  it('takes the plan from a gpt-neox config and prints the op table', () => {
    const r = runCli(['model', 'show', '--config', fixture]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Plan: TP 2, PP 4, micro-batch 4 × 2048 tokens, recompute full');
    expect(r.stdout).toContain('20,556,201,984');
    expect(r.stdout).toMatch(/forward\s+attention\.scores\s+bmm\s+128×\(2048×2048×96\)/);
    expect(r.stdout).toMatch(/backward\s+attention\.query_key_value\.wgrad\s+gemm\s+9216×6144×8192/);
    expect(r.stdout).toMatch(/recompute\s+layer\.all-reduce\s+all-reduce \(tp\)\s+message 100\.7 MB fp16/);
  });

  it('is deterministic', () => {
    const a = runCli(['model', 'show', 'pythia-1b', '--tp', '2', '--json']);
    const b = runCli(['model', 'show', 'pythia-1b', '--tp', '2', '--json']);
    expect(a.stdout).toBe(b.stdout);
  });
});

describe('neox-sim model export', () => {
  it('writes a gpt-neox config that imports back to the same run at the new parallelism', () => {
    const out = join(tmp, 'plan.yml');
    const r = runCli(['model', 'export', '--config', fixture, '--tp', '4', '--pp', '2', '--out', out]);
    expect(r.status).toBe(0);
    const back = JSON.parse(runCli(['model', 'show', '--config', out, '--json', '--ops', 'none']).stdout);
    expect(back.plan).toMatchObject({ tp: 4, pp: 2, microBatch: 4, recompute: 'full' });
    expect(back.params.unique).toBe(20_554_567_680);
    expect(back.model.embeddingRows).toBe(50432);
  });

  it('leaves nothing behind when the input is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neox-export-bad-'));
    const out = join(dir, 'plan.yml');
    expectBadInput(['model', 'export', 'neox-20b', '--tp', '3', '--out', out], /divisor of num-attention-heads \(64\)/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('bad input through the real CLI', () => {
  it('malformed YAML, with the line', () => {
    const line = base.split('\n').findIndex((l) => l.includes('"hidden-size"')) + 1;
    const p = write('broken.yml', base.replace('"hidden-size": 6144,', '"hidden-size": 6144'));
    expectBadInput(['model', 'show', '--config', p], new RegExp(`broken\\.yml: line ${line}, column \\d+: expected valid YAML`));
  });

  it('a field of the wrong type', () => {
    const p = write('many.yml', base.replace('"num-layers": 44', '"num-layers": "many"'));
    expectBadInput(['model', 'show', '--config', p], /many\.yml: num-layers: expected a positive integer, got "many"/);
  });

  it('TP not dividing the heads', () => {
    expectBadInput(['model', 'show', 'neox-20b', '--tp', '3'], /neox-20b: tensor-parallel size: expected a divisor of num-attention-heads \(64\), got 3/);
  });

  it('an unknown preset', () => {
    expectBadInput(['model', 'show', 'gpt-5'], /model preset: expected one of neox-20b, .*pythia-12b.*, got "gpt-5"/);
  });

  it('hidden size not divisible by the heads', () => {
    const p = write('heads.yml', base.replace('"num-attention-heads": 64', '"num-attention-heads": 60'));
    expectBadInput(['model', 'show', '--config', p], /heads\.yml: hidden-size: expected a multiple of the number of heads \(60\), got 6144/);
  });

  it('a missing required field in a complete config', () => {
    const p = write('missing.yml', base.replace('"num-layers": 44,', ''));
    expectBadInput(['model', 'show', '--config', p], /missing\.yml: num-layers: expected a positive integer \(required, but missing\)/);
  });

  it('a missing file and a bad flag value', () => {
    expectBadInput(['model', 'show', '--config', join(tmp, 'nope.yml')], /nope\.yml: expected a readable gpt-neox YAML config \(no such file\)/);
    expectBadInput(['model', 'show', 'neox-20b', '--recompute', 'sometimes'], /--recompute: expected none, full or selective, got "sometimes"/);
  });
});
