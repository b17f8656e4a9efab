import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { run } from '../../src/cli/commands/collective.js';
import { runCli } from '../helpers/cli.js';

describe('neox-sim collective (spawned)', () => {
  it('prints an nccl-tests-like table with the nccl-tests bus bandwidth', () => {
    const r = runCli(['collective', 'all-reduce', '--nodes', '3', '--gpus-per-node', '8', '--min-bytes', '1M', '--max-bytes', '4M']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('24 ranks on 3 nodes');
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(['1048576', '2097152', '4194304']);
    for (const line of rows) {
      const [size, time, algbw, busbw] = line.trim().split(/\s+/).map(Number);
      // algbw = size / time, busbw = algbw · 2(n−1)/n (values printed rounded).
      expect(algbw).toBeCloseTo(size! / (time! * 1e-6) / 1e9, 1);
      expect(busbw).toBeCloseTo((algbw! * 2 * 23) / 24, 1);
    }
    expect(r.stdout).toMatch(/# Avg bus bandwidth\s+: [\d.]+ GB\/s/);
  });

  it('is deterministic: the same sweep gives byte-identical JSON', () => {
    const args = ['collective', 'all-reduce', '--min-bytes', '8', '--max-bytes', '64M', '--step-factor', '8', '--json'];
    const a = runCli(args);
    const b = runCli(args);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  // Spawned: the path a user takes, exit code and stderr included. The other input checks run in-process below.
  const bad: [string, string[], RegExp][] = [
    ['an unknown collective', ['all-to-all'], /collective: <op>: expected one of all-reduce, .*got "all-to-all"/],
    ['a rank out of range', ['all-reduce', '--ranks', '0-96'], /--ranks: expected GPU indices 0\.\.95 .*got 96/],
    ['zero bytes', ['all-reduce', '--min-bytes', '0'], /--min-bytes: expected a whole number of bytes of at least 1.*got "0"/],
    ['a size in GHz', ['all-reduce', '--max-bytes', '1 GHz'], /--max-bytes: expected a whole number of bytes .*got "1 GHz"/],
    ['a size flag without its value', ['all-reduce', '--min-bytes', '-8'], /Option '--min-bytes' argument is ambiguous/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with one line and exit 2`, () => {
      const r = runCli(['collective', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }

  it('steps sizes by a fixed increment with --step-bytes, like nccl-tests -i', () => {
    const r = runCli(['collective', 'all-gather', '--ranks', '0-3', '--min-bytes', '8', '--max-bytes', '3M', '--step-bytes', '1M', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).rows.map((row: { bytes: number }) => row.bytes)).toEqual([8, 8 + 2 ** 20, 8 + 2 * 2 ** 20]);
  });

  it('prints help with --help', () => {
    const r = runCli(['collective', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: neox-sim collective');
  });
});

describe('neox-sim collective input checks (in-process)', () => {
  const bad: [string, string[], RegExp][] = [
    ['a duplicated rank', ['all-reduce', '--ranks', '0,1,1'], /^--ranks: expected each GPU once, got "GPU 1 twice"$/],
    ['a rank list that is not one', ['all-reduce', '--ranks', 'all'], /^--ranks: expected GPU indices and ranges/],
    ['a reversed range', ['all-reduce', '--ranks', '8-3'], /^--ranks: expected ranges written low-high/],
    ['--ranks with --nodes', ['all-reduce', '--ranks', '0-7', '--nodes', '1', '--gpus-per-node', '8'], /^--ranks: expected either --ranks or --nodes/],
    ['--nodes alone', ['all-reduce', '--nodes', '2'], /^--nodes: expected --nodes and --gpus-per-node together/],
    ['more nodes than the cluster has', ['all-reduce', '--nodes', '13', '--gpus-per-node', '8'], /^--nodes: expected at most the cluster's 12 nodes, got 13$/],
    ['a negative size', ['all-reduce', '--min-bytes=-8'], /^--min-bytes: expected a whole number of bytes/],
    ['a fractional byte count', ['all-reduce', '--min-bytes', '1.5'], /^--min-bytes: expected a whole number of bytes/],
    ['max below min', ['all-reduce', '--min-bytes', '1M', '--max-bytes', '1K'], /^--max-bytes: expected a size of at least --min-bytes/],
    ['a step factor of 1', ['all-reduce', '--step-factor', '1'], /^--step-factor: expected a number greater than 1/],
    ['both step kinds', ['all-reduce', '--step-factor', '2', '--step-bytes', '1M'], /^--step-bytes: expected either --step-factor or --step-bytes/],
    ['a tree reduce-scatter', ['reduce-scatter', '--algo', 'tree'], /^--algo: expected ring or auto for reduce-scatter/],
    ['an unknown protocol', ['all-reduce', '--proto', 'LL64'], /^--proto: expected one of LL, LL128, Simple, auto, got "LL64"$/],
    ['a root outside the communicator', ['broadcast', '--ranks', '0-7', '--root', '8'], /^--root: expected a rank index 0\.\.7/],
    ['sendrecv on one GPU', ['sendrecv', '--ranks', '5'], /^--ranks: expected at least 2 GPUs for sendrecv/],
    ['an unknown cluster', ['all-reduce', '--cluster', 'nowhere'], /^cluster: name: expected a known cluster profile/],
    ['an unknown NCCL profile', ['all-reduce', '--nccl', 'nccl-9'], /^collective: --nccl: expected a known nccl profile/],
    ['two collectives', ['all-reduce', 'broadcast'], /^collective: arguments: expected one collective/],
    ['an unknown flag', ['all-reduce', '--fast'], /Unknown option '--fast'/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what}`, async () => {
      const err = await run(args).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  }
});
