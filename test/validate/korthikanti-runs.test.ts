import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const file = 'validation/korthikanti-2022.json';
const runs = JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as Record<string, any>[];

describe(`${file}: Korthikanti et al. 2022, Table 5`, () => {
  it('holds each model twice, full recompute and sequence parallelism + selective recompute, each with its source', () => {
    expect(runs).toHaveLength(8);
    for (const r of runs) {
      expect(r.source.url).toBe('https://arxiv.org/abs/2205.05198');
      expect(r.reported.sec_per_iter).toBeGreaterThan(0);
      expect(r.parallelism.sp).toBe(r.id.endsWith('-seqsel'));
      expect(r.recompute.startsWith(r.parallelism.sp ? 'selective' : 'full')).toBe(true);
    }
  });

  it('maps the sequence-parallel run to TP with SP and selective recompute, and simulates it', () => {
    const r = runCli(['validate', '--runs', file, '--only', 'k22-22b-seqsel', '--jobs', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const [result] = JSON.parse(r.stdout).results;
    expect(result.plan).toBe('TP8+SP PP1 DP1 mb4×1 selective recompute');
    expect(result.published.seconds ?? result.published).toBeTruthy();
    expect(Number.isFinite(result.errorPct)).toBe(true);
  });
});
