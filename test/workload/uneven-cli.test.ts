import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('neox-sim simulate: PP must divide the layers unless --uneven-pp', () => {
  it('rejects PP 4 for the 6 layers of pythia-70m in one line naming the constraint and the opt-in (exit 2)', () => {
    const r = runCli(['simulate', '--model', 'pythia-70m', '--nodes', '1', '--pp', '4', '--steps', '10']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`simulate: --pp: expected a divisor of num-layers (6) (equal stages; --uneven-pp accepts gpt-neox's uneven "type:transformer|mlp" partition), got 4`);
  });

  it('--uneven-pp runs DeepSpeed\'s 2/2/2/0 partition, the empty last stage included', () => {
    const r = runCli(['simulate', '--model', 'pythia-70m', '--nodes', '1', '--pp', '4', '--uneven-pp', '--steps', '10', '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.plan).toMatchObject({ pp: 4, dp: 2, unevenPipeline: true });
    expect(s.step.stages).toHaveLength(4);
    expect(s.step.seconds).toBeGreaterThan(0);
  });
});
