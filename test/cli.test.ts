import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('neox-sim CLI shell', () => {
  it('prints help and exits 0 with --help', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: neox-sim <command>');
  });

  it('rejects an unknown command with one line and exit 2', () => {
    const r = runCli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
