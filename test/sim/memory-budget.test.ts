import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { headroomWords, memoryBudget, parseHeadroom } from '../../src/sim/memory/budget.js';
import { formatSummary } from '../../src/report/step-text.js';
import { runCli } from '../helpers/cli.js';

const SMALL = ['--model', 'pythia-160m', '--nodes', '1', '--tp', '2', '--pp', '2', '--mbs', '2', '--gas', '4', '--steps', '1000'];
/** GPT-NeoX-20B's best plan on supermicro12 before the runtime reserve was counted: 40.9 GB of tensors. */
const FORMER_BEST = ['--tp', '2', '--pp', '2', '--mbs', '2', '--gas', '32', '--zero', '2', '--recompute', 'selective', '--schedule', 'interleaved', '--virtual-stages', '11', '--rank-order', 'data,pipe,model'];

describe('allocator headroom', () => {
  it('reads a fraction or a size', () => {
    expect(parseHeadroom('0.05', 'x')).toEqual({ fraction: 0.05 });
    expect(parseHeadroom('5%', 'x')).toEqual({ fraction: 0.05 });
    expect(parseHeadroom('0', 'x')).toEqual({ bytes: 0 });
    expect(parseHeadroom('2GB', 'x')).toEqual({ bytes: 2e9 });
    expect(parseHeadroom('1.5 GiB', 'x')).toEqual({ bytes: 1.5 * 2 ** 30 });
  });

  it('takes it off the usable memory', () => {
    expect(memoryBudget(40e9, { fraction: 0.05 })).toEqual({ usableBytes: 40e9, headroom: { fraction: 0.05 }, headroomBytes: 2e9, budgetBytes: 38e9 });
    expect(memoryBudget(40e9).budgetBytes).toBe(40e9);
    expect(headroomWords(memoryBudget(40e9))).toBe('0 (none set; --memory-headroom)');
    expect(headroomWords(memoryBudget(40e9, { fraction: 0.05 }))).toBe('5% of usable (2.0 GB)');
  });

  it('refuses an ambiguous or impossible value, naming the flag and the expected form', () => {
    for (const bad of ['2', '100%', '-1', 'lots', '3 GHz']) {
      expect(() => parseHeadroom(bad, 'simulate')).toThrow(InputError);
      expect(() => parseHeadroom(bad, 'simulate')).toThrow(`simulate: --memory-headroom: expected a fraction of the usable memory in [0, 1) such as 0.05 or 5%, or a size such as 2GB, got "${bad}"`);
    }
  });
});

describe('neox-sim simulate: the runtime reserve and the headroom in the memory report', () => {
  it('a plan whose tensors fit no longer does once the runtime reserve is counted, and says so', () => {
    const j = runCli(['simulate', ...FORMER_BEST, '--json']);
    expect(j.stderr).toBe('');
    const summary = JSON.parse(j.stdout);
    const m = summary.memory;
    const over = m.stages.filter((s: { fits: boolean }) => !s.fits);
    expect(over.length).toBeGreaterThan(0);
    for (const s of over) {
      // The tensors alone fit the usable memory; with the reserve the peak does not.
      expect(s.peakBytes - s.byCategory.runtime).toBeLessThanOrEqual(m.capacityBytes);
      expect(s.peakBytes).toBeGreaterThan(m.budgetBytes);
      expect(s.byCategory.runtime).toBe(s.runtime.bytes);
      expect(s.runtime.bytes).toBe(s.runtime.cudaContextBytes + s.runtime.cublasWorkspaceBytes + s.runtime.ncclBytes);
      expect(s.marginBytes).toBe(m.budgetBytes - s.peakBytes);
    }
    expect(m.budgetBytes).toBe(m.capacityBytes);
    expect(m.sources.headroom).toMatch(/^none by default/);
    // The text the command prints for this summary (the same function formats it).
    const t = formatSummary(summary);
    expect(t).toMatch(/allocator headroom 0 \(none set; --memory-headroom\)/);
    expect(t).toMatch(/^stage .* p2p +runtime +other +peak/m);
    expect(t).toMatch(/^Runtime reserve: CUDA context 1\.77 GB \+ cuBLAS workspaces 0\.02 GB \+ NCCL buffers/m);
    expect(t).toMatch(/NCCL communicators of rank \d+ \(stage \d\): world 96 ranks × \d+ ch/);
    expect(t).toMatch(/^Stage \d does not fit: it peaks at \d+\.\d\d GB > 42\.41 GB, .* and \d\.\d\d GB runtime reserve \(CUDA context, NCCL buffers, cuBLAS workspaces\)\.$/m);
  }, 60_000);

  it('--memory-headroom takes a fraction off the budget; fits and margins follow it', () => {
    const a = JSON.parse(runCli(['simulate', ...SMALL, '--json']).stdout).memory;
    const full = JSON.parse(runCli(['simulate', ...SMALL, '--json', '--memory-headroom', '5%']).stdout);
    const b = full.memory;
    expect(b.headroom).toEqual({ fraction: 0.05 });
    expect(b.headroomBytes).toBeCloseTo(0.05 * a.capacityBytes, 0);
    expect(b.budgetBytes).toBe(b.capacityBytes - b.headroomBytes);
    expect(b.sources.headroom).toBe('set by the user (--memory-headroom)');
    b.stages.forEach((s: { peakBytes: number; marginBytes: number }, i: number) => {
      expect(s.peakBytes).toBe(a.stages[i].peakBytes);
      expect(s.marginBytes).toBe(b.budgetBytes - s.peakBytes);
    });
    expect(formatSummary(full)).toMatch(/usable of 40\.00 GiB \(42\.9 GB\); less 2\.1 GB allocator headroom = 40\.3 GB$/m);
  }, 60_000);

  it('bad --memory-headroom: one line, exit 2, in simulate and plan', () => {
    const s = runCli(['simulate', ...SMALL, '--memory-headroom', '2']);
    expect(s.status).toBe(2);
    expect(s.stderr).toBe('neox-sim: simulate: --memory-headroom: expected a fraction of the usable memory in [0, 1) such as 0.05 or 5%, or a size such as 2GB, got "2"\n');
    const p = runCli(['plan', '--memory-headroom', 'much']);
    expect(p.status).toBe(2);
    expect(p.stderr).toBe('neox-sim: plan: --memory-headroom: expected a fraction of the usable memory in [0, 1) such as 0.05 or 5%, or a size such as 2GB, got "much"\n');
  }, 30_000);
});
