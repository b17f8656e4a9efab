import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const base = ['plan', '--model', 'neox-small', '--nodes', '1', '--global-batch', '16', '--tp', '2', '--pp', '1', '--zero', '1', '--top', '1', '--no-progress', '--json'];
const best = (args: string[]) => {
  const r = runCli([...base, ...args]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).rows[0];
};

describe('plan --attention', () => {
  it('flash times every plan with the fused kernels: the same plan steps faster', () => {
    const [mat, flash] = [best(['--recompute', 'full', '--mbs', '4']), best(['--recompute', 'full', '--mbs', '4', '--attention', 'flash'])];
    expect(flash.key).toBe(mat.key);
    expect(flash.stepSeconds).toBeLessThan(mat.stepSeconds);
  });

  it('flash with --engine neox-2022, or another kernel name, is one line and exit 2', () => {
    for (const [args, text] of [
      [['--attention', 'flash', '--engine', 'neox-2022'], 'gpt-neox 2022 had no FlashAttention'],
      [['--attention', 'fast'], 'expected one of materialized, flash, got "fast"'],
    ] as const) {
      const r = runCli([...base, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^neox-sim: plan: --attention: .+\n$/);
      expect(r.stderr).toContain(text);
    }
  });
});
