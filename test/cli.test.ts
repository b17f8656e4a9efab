import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const bin = fileURLToPath(new URL('../bin/neox-sim.js', import.meta.url));

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

  it('stops quietly when the reader closes the pipe early (neox-sim … | head -c 1)', () => {
    const r = spawnSync('bash', ['-c', `node "${bin}" simulate --per-rank --json | head -c 1; exit \${PIPESTATUS[0]}`], { encoding: 'utf8' });
    expect(r.stdout).toBe('{');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
