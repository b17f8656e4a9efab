import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const base = ['simulate', '--model', 'pythia-70m', '--nodes', '1', '--global-batch', '16', '--json'];
const summary = (args: string[]) => {
  const r = runCli([...base, ...args]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('simulate --attention', () => {
  it('flash runs the fused kernels: a shorter step, fewer saved bytes, and a warning that gpt-neox 2022 had none', () => {
    const [mat, flash] = [summary([]), summary(['--attention', 'flash'])];
    expect(flash.step.seconds).toBeLessThan(mat.step.seconds);
    const peak = (s: { memory: { stages: { peakBytes: number }[] } }) => Math.max(...s.memory.stages.map((x) => x.peakBytes));
    expect(peak(flash)).toBeLessThan(peak(mat));
    expect(flash.warnings.join('\n')).toContain('FlashAttention');
    expect(mat.warnings.join('\n')).not.toContain('FlashAttention');
    expect(summary(['--attention', 'materialized'])).toEqual(mat);
  });

  it('rejects another kernel name with one line and exit 2', () => {
    const r = runCli([...base, '--attention', 'fast']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('neox-sim: simulate: --attention: expected materialized or flash, got "fast"');
  });
});
