import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPlan } from '../../src/plan/export.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-plan-cli-'));
// neox-tiny on one 8-GPU node: a whole sweep (564 plans) in about a second; `small` restricts it further.
const tiny = ['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '16', '--top', '4', '--no-progress'];
const small = [...tiny, '--zero', '1,3', '--recompute', 'none,full'];

describe('neox-sim plan', () => {
  it('ranks plans, and gives byte-identical JSON twice and with 1 or 2 worker threads', () => {
    const full = runCli([...tiny, '--json']);
    expect(full.status, full.stderr).toBe(0);
    const j = JSON.parse(full.stdout);
    expect(j.schema).toBe('neox-sim/plan@1');
    expect(j.space.plans).toBe(564);
    const m = j.counts.droppedForMemory;
    expect(m['quick bound'] + m['graph floor'] + j.counts.prunedByQuickBound + j.counts.prunedByGraphFloor + j.counts.simulated).toBe(564);
    expect(j.rows.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3, 4]);
    const times = j.rows.map((r: { stepSeconds: number }) => r.stepSeconds);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(j.rows[0]).toMatchObject({ tflopsPerGpu: { logger: expect.any(Number), sixN: expect.any(Number) }, totalHours: expect.any(Number), gpuHours: expect.any(Number) });
    // Determinism on a smaller sweep.
    const runs = ['2', '2', '1'].map((w) => runCli([...small, '--json', '--workers', w]));
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
    expect(runs[2]!.stdout).toBe(runs[0]!.stdout);
  });

  it('text: the space, what was dropped and pruned, the table and the best plan', () => {
    const r = runCli([...tiny, '--price-per-gpu-hour', '2.5']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^neox-tiny on supermicro12 \(nodes=1\): 8 × NVIDIA A100-SXM4-40GB/);
    expect(r.stdout).toContain('Plan space: 564 valid plans');
    expect(r.stdout).toMatch(/− 216: GPipe on one stage is 1F1B on one stage/);
    expect(r.stdout).toMatch(/^rank\s+TP\s+PP\s+DP\s+mbs\s+GAS\s+ZeRO\s+recompute\s+schedule\s+rank order\s+step s\s+tokens\/s\s+TFLOP\/s logger\s+6N\s+peak GB\s+hours\s+GPU-hours\s+cost\s+bottleneck$/m);
    expect(r.stdout).toMatch(/^Best plan: tp\d pp\d dp\d mbs\d+ gas\d+ zero\d \w+ \S+ [a-z,]+ — compute \d+% · /m);
  });

  it('finds GPT-NeoX-20B\'s own plan, marks it, and says how far the best plan is from it', () => {
    // The 20B run's choices, gpt-neox's rank order and the data-outermost view: two plans, one the run's own.
    const r = runCli(['plan', '--tp', '2', '--pp', '4', '--mbs', '4', '--zero', '1', '--recompute', 'full', '--schedule', '1f1b', '--top', '2', '--no-progress']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Plan space: 2 valid plans');
    expect(r.stdout).toMatch(/^[12] ◀\s+2\s+4\s+12\s+4\s+32\s+1\s+full\s+1f1b\s+pipe,data,model\s+32\.\d\d /m);
    expect(r.stdout).toContain("◀ GPT-NeoX-20B's plan (configs/20B.yml");
    expect(r.stdout).toMatch(/^GPT-NeoX-20B's plan .* ranks [12]: 32\.\d\d s per step, [\d,]+ h for the run\.$/m);
    expect(r.stdout).toMatch(/^(It is the best plan found\.|The best plan is 1\.\d\d× as fast per step \(32\.\d\d s, \d\.\d% less\): [\d,]+ h instead of [\d,]+ h for the whole run\.)$/m);
  });

  it('--export-config writes the best plan as a gpt-neox config that re-imports to the same plan', () => {
    const out = join(dir, 'best.yml');
    const r = runCli([...small, '--json', '--export-config', out]);
    expect(r.status, r.stderr).toBe(0);
    const best = JSON.parse(r.stdout).rows[0];
    expect(importPlan(out, 8).plan).toEqual(best.plan);
    expect(readFileSync(out, 'utf8')).toMatch(/^# GPT-NeoX config for neox-tiny on supermicro12 \(nodes=1\): the best plan found by neox-sim plan/);
  });

  it('progress goes to stderr only: --json stdout stays parseable', () => {
    const r = runCli(['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '16', '--zero', '1', '--json', '--workers', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown cluster', ['plan', '--cluster', 'nope'], /^neox-sim: .*cluster.*expected .*supermicro12/],
    ['impossible global batch', ['plan', '--model', 'neox-tiny', '--nodes', '2', '--global-batch', '7'], /^neox-sim: plan: --global-batch: expected a multiple of a data-parallel degree this cluster allows \(2, 4, 8, 16\), got 7$/],
    ['preset without a global batch', ['plan', '--model', 'neox-tiny'], /^neox-sim: plan: --global-batch: expected sequences per step for neox-tiny/],
    ['top 0', ['plan', '--top', '0'], /^neox-sim: plan: --top: expected a whole number of at least 1, got "0"$/],
    ['ZeRO 5', ['plan', '--zero', '1,5'], /^neox-sim: plan: --zero: expected one of 0, 1, 2, 3, got "5"$/],
    ['engine', ['plan', '--engine', 'megatron'], /^neox-sim: plan: --engine: expected one of any, neox-2022, got "megatron"$/],
    ['rank orders', ['plan', '--rank-orders', 'pipe,model'], /^neox-sim: plan: --rank-orders: expected neox, all, or permutations/],
    ['price', ['plan', '--price-per-gpu-hour=-1'], /^neox-sim: plan: --price-per-gpu-hour: expected a positive number/],
    ['unknown flag', ['plan', '--frobnicate'], /^neox-sim: .*frobnicate/],
    ['model and config', ['plan', '--model', 'neox-20b', '--config', 'x.yml'], /^neox-sim: plan: --model: expected --model or --config, not both/],
    ['seq beyond positions', ['plan', '--seq', '4096'], /^neox-sim: plan: --seq: expected at most max-position-embeddings \(2048\), got 4096$/],
    ['nothing left', ['plan', '--model', 'neox-tiny', '--nodes', '1', '--global-batch', '16', '--pp', '3'], /^neox-sim: plan: expected at least one valid plan; every candidate was dropped/],
  ];
  it.each(bad)('bad input: %s → one line, exit 2, no file written', (_, args, message) => {
    const report = join(dir, `bad-${readdirSync(dir).length}.html`);
    const r = runCli([...args, '--report', report]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad-'))).toEqual([]);
  });

  it('a config file that re-imports is a valid --config for plan (its own plan is the reference)', () => {
    const out = join(dir, 'tiny.yml');
    expect(runCli([...small, '--export-config', out]).status).toBe(0);
    const r = runCli(['plan', '--config', out, '--nodes', '1', '--top', '2', '--zero', '1', '--recompute', 'none,full', '--no-progress', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.globalBatch).toBe(16);
    expect(j.reference.label).toBe(`the plan of ${out}`);
    expect(j.reference.row.rank).toBe(1);
    expect(j.comparison.speedup).toBe(1);
  });
});
