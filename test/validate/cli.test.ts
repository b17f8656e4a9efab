import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-validate-'));
const shipped = JSON.parse(readFileSync(new URL('../../validation/published-runs.json', import.meta.url), 'utf8')) as Record<string, any>[];
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const oneLine = (r: { status: number | null; stderr: string }) => {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
};

describe('neox-sim validate', () => {
  it('simulates the smallest published run end to end and prints the table, the statistics and the reading', () => {
    const r = runCli(['validate', '--only', 'sc21-t1-1.7B', '--jobs', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^run\s+GPUs\s+plan\s+predicted s\/iter\s+published s\/iter\s+error\s+TFLOP\/s predicted\s+reported\s+convention/);
    expect(r.stdout).toMatch(/sc21-t1-1\.7B\s+32\s+TP1 PP1 DP32 mb16×1\s+\d+\.\d\d\s+3\.53\s+[−+]\d+\.\d%\s+\d+\.\d\s+137\s+Megatron eq\. \(3\) with recompute/);
    expect(r.stdout).toMatch(/Error over 1 run \(predicted vs published s\/iter\): mean absolute \d+\.\d%, bias [−+]\d+\.\d%/);
    expect(r.stdout).toMatch(/Reading:\n {2}- 1 of 1 simulated iterations/);
    expect(r.stderr).toMatch(/\[1\/1\] sc21-t1-1\.7B \(32 GPUs\): simulating…/);
    expect(r.stderr).toMatch(/validate: 1 runs in \d+\.\d s/);
  });

  it('JSON: the error is (predicted − published) / published, and worker threads give the same report byte for byte', () => {
    // Two small runs of our own (one DGX node each), so that two workers run at once.
    const base = shipped[0]!;
    const small = (id: string, tp: number) => ({
      ...base, id, model: { ...base.model, layers: 4, hidden: 512, heads: 8, kv_heads: 8, ffn_hidden: 2048, seq_len: 512 },
      hardware: { ...base.hardware, num_gpus: 8, num_nodes: 1 }, parallelism: { ...base.parallelism, tp, dp: 8 / tp },
      batch: { micro_batch: 2, global_batch_seqs: (2 * 8) / tp, grad_accum: 1 },
    });
    const file = write('small.json', JSON.stringify([small('small-tp1', 1), small('small-tp2', 2)]));
    const a = runCli(['validate', '--runs', file, '--json', '--jobs', '1']);
    const b = runCli(['validate', '--runs', file, '--json', '--jobs', '2']);
    expect(a.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const rep = JSON.parse(a.stdout);
    expect(rep.schema).toBe('neox-sim/validate@1');
    expect(rep.results.map((x: { id: string }) => x.id)).toEqual(['small-tp1', 'small-tp2']);
    for (const x of rep.results) {
      expect(x.errorPct).toBeCloseTo(((x.predicted.seconds - x.published.seconds) / x.published.seconds) * 100, 10);
      expect(x.published.seconds).toBe(base.derived.sec_per_iter);
    }
    expect(rep.stats.runs).toBe(2);
    expect(rep.stats.biasPct).toBeCloseTo((rep.results[0].errorPct + rep.results[1].errorPct) / 2, 10);
  });

  it('lists a run it cannot represent with the reason', () => {
    const file = write('v100.json', JSON.stringify([{ ...shipped[0], hardware: { ...shipped[0]!.hardware, gpu: 'V100-SXM2-32GB' } }]));
    const r = runCli(['validate', '--runs', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Skipped (not representable):\n  sc21-t1-1.7B: GPU "V100-SXM2-32GB": no profile');
    expect(r.stdout).toContain('No run could be simulated.');
  });

  describe('bad input: one line, exit 2', () => {
    it('a missing runs file', () => {
      expect(oneLine(runCli(['validate', '--runs', join(dir, 'nope.json')]))).toBe(`neox-sim: ${join(dir, 'nope.json')}: cannot read file (no such file)`);
    });

    it('malformed JSON, with its line and column', () => {
      const file = write('broken.json', '[\n {"id": "x",\n  "model": {"layers": 24,}\n }\n]\n');
      expect(oneLine(runCli(['validate', '--runs', file]))).toMatch(/broken\.json: line 3, column 26: expected valid JSON \(a double-quoted property name\), got "}"/);
    });

    it('a run missing a required field names the run and the field', () => {
      const run = structuredClone(shipped[3]!);
      delete run.model.hidden;
      const file = write('missing.json', JSON.stringify([shipped[0], run]));
      expect(oneLine(runCli(['validate', '--runs', file]))).toBe(`neox-sim: ${file}: sc21-t1-18B: model.hidden: expected a positive integer, but it is missing`);
    });

    it('a run without any published time', () => {
      const run = structuredClone(shipped[0]!);
      run.derived.sec_per_iter = null;
      const file = write('untimed.json', JSON.stringify([run]));
      expect(oneLine(runCli(['validate', '--runs', file]))).toMatch(/sc21-t1-1\.7B: reported\.sec_per_iter: expected seconds per iteration \(or derived\.sec_per_iter, or reported\.total_hours with reported\.train_steps\), but none is given/);
    });

    it('an unknown run id, a bad --jobs, a stray argument', () => {
      expect(oneLine(runCli(['validate', '--only', 'sc21-t1-2B']))).toMatch(/validation\/published-runs\.json: --only: expected run ids from the file \(sc21-t1-1\.7B, .*gpt-neox-20b\), got "sc21-t1-2B"/);
      expect(oneLine(runCli(['validate', '--jobs', '0']))).toBe('neox-sim: validate: --jobs: expected a whole number of at least 1, got "0"');
      expect(oneLine(runCli(['validate', 'extra']))).toBe('neox-sim: validate: arguments: expected options only (see --help), got "extra"');
    });
  });
});
