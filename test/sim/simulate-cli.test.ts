import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const fixture20B = new URL('../model/fixtures/20B.yml', import.meta.url).pathname;
const SMALL = ['--model', 'pythia-160m', '--nodes', '1', '--tp', '2', '--pp', '2', '--mbs', '2', '--gas', '4', '--steps', '1000'];

describe('neox-sim simulate', () => {
  it('prints the complete result for the GPT-NeoX-20B plan on its 96 GPUs', () => {
    const r = runCli(['simulate', '--cluster', 'supermicro12', '--model', 'neox-20b', '--tp', '2', '--pp', '4', '--mbs', '4', '--gas', '32', '--zero', '1', '--recompute', 'full']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/TP 2 × PP 4 × DP 12 = 96 GPUs/);
    expect(out).toMatch(/global batch 1536 × 2048 tokens/);
    expect(out).toMatch(/^Step time \d+\.\d\d s/m);
    for (const col of ['forward', 'recompute', 'backward', 'optimizer', 'exp. TP', 'exp. PP', 'exp. DP', 'bubble']) expect(out).toContain(col);
    expect(out.match(/^[0-3] +\d+\.\d{3}( +\d+\.\d{3}){8}$/gm)).toHaveLength(4);
    expect(out).toMatch(/6·N·tokens/);
    expect(out).toMatch(/Megatron with recompute/);
    expect(out).toMatch(/gpt-neox 2022 logger.* \d+\.\d +117$/m);
    expect(out).toMatch(/Peak memory per GPU .* usable/);
    expect(out.match(/^[0-3] .* (yes|NO) +[+-]\d+\.\d\d$/gm)).toHaveLength(4);
    expect(out).toMatch(/Link load over the step/);
    expect(out).toMatch(/Whole run: 150,000 steps/);
    expect(out).toMatch(/total wall-clock .* 1,830 h/);
    expect(out).toMatch(/GPU-hours .* 175,680/);
    expect(out).toMatch(/Where the time goes[\s\S]*Bottleneck/);
  }, 30_000);

  it('reads the plan and run settings from a gpt-neox config', () => {
    const r = runCli(['simulate', '--config', fixture20B, '--nodes', '1', '--json']);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout);
    expect(s.schema).toBe('neox-sim/simulate-summary@1');
    expect(s.plan).toMatchObject({ tp: 2, pp: 4, dp: 1, microBatch: 4, gradAccumSteps: 32, zeroStage: 1, recompute: 'full', globalBatch: 128 });
    expect(s.run.settings).toMatchObject({ steps: 150000, evalInterval: 1000, evalIters: 10, saveInterval: 500 });
    expect(s.step.stages).toHaveLength(4);
  }, 30_000);

  it('gives the same JSON twice, byte for byte', () => {
    const a = runCli(['simulate', ...SMALL, '--json']);
    const b = runCli(['simulate', ...SMALL, '--json']);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const s = JSON.parse(a.stdout);
    expect(s.cluster.gpus).toBe(8);
    expect(s.step.seconds).toBeGreaterThan(0);
  }, 30_000);

  it('writes a Chrome trace and an Arrow file atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neox-sim-'));
    const trace = join(dir, 'out', 'step.json');
    const arrow = join(dir, 'step.arrow');
    const r = runCli(['simulate', ...SMALL, '--trace', trace, '--trace-ops', '0', '--arrow', arrow, '--per-rank']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Per rank \(seconds\)/m);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    expect(t.traceEvents.filter((e: { ph: string; name: string }) => e.ph === 'M' && e.name === 'process_name')).toHaveLength(8);
    expect(t.traceEvents.some((e: { ph: string; cat: string }) => e.ph === 'X' && e.cat === 'gemm')).toBe(true); // kernels of rank 0
    expect(t.traceEvents.some((e: { ph: string; cat: string }) => e.ph === 'X' && e.cat === 'collective')).toBe(true);
    const table = tableFromIPC(readFileSync(arrow));
    expect(table.numRows).toBeGreaterThan(100);
    expect(new Set(table.getChild('rank')!.toArray())).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 30_000);

  it('supports what-ifs: rank order, schedule, cluster overrides, free communication', () => {
    const r = runCli(['simulate', ...SMALL, '--rank-order', 'data,pipe,model', '--schedule', 'gpipe', '--free-comm', '--json']);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout);
    expect(s.plan.rankOrder).toEqual(['data', 'pipe', 'model']);
    expect(s.plan.schedule).toBe('gpipe');
    for (const st of s.step.stages) expect(st.seconds.exposedTp + st.seconds.exposedPp + st.seconds.exposedDp).toBe(0);
    expect(s.warnings.join(' ')).toMatch(/gpipe/);
  }, 30_000);
});

describe('neox-sim simulate: impossible plans and bad input get one line and exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['TP not dividing the heads', ['--tp', '3', '--pp', '1'], /--tp.*64|heads/],
    ['TP × PP not dividing the GPUs', ['--tp', '5', '--pp', '1'], /--tp × --pp: expected a divisor of the cluster's 96 GPUs/],
    ['TP × PP × DP ≠ GPUs', ['--dp', '10'], /--dp: expected tp × pp × dp = the cluster's 96 GPUs/],
    ['more stages than layers', ['--tp', '1', '--pp', '48'], /--pp: expected at most num-layers \(44\)/],
    ['interleaved chunks not dividing the layers', ['--schedule', 'interleaved', '--virtual-stages', '3'], /--virtual-stages.*divisible by pp × virtualStages/],
    ['global batch not divisible', ['--global-batch', '1000'], /--global-batch: expected a multiple of micro-batch × DP \(4 × 12 = 48\), got 1000/],
    ['an unknown recompute mode', ['--recompute', 'some'], /--recompute: expected one of none, selective, full, got "some"/],
    ['a bad bandwidth', ['--ckpt-write-bw', 'fast'], /--ckpt-write-bw: expected a positive bandwidth/],
    ['an unknown model', ['--model', 'gpt-5'], /--model: expected one of neox-20b/],
    ['an unknown flag', ['--tpp', '2'], /tpp/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const dir = mkdtempSync(join(tmpdir(), 'neox-sim-'));
      const trace = join(dir, 'step.json');
      const r = runCli(['simulate', ...args, '--trace', trace]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
      expect(existsSync(trace)).toBe(false);
    });
  }

  it('a config file with a bad value names the file and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neox-sim-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, readFileSync(fixture20B, 'utf8').replace('"model-parallel-size": 2', '"model-parallel-size": 5'));
    const r = runCli(['simulate', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yml/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
