import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { attentionKernelOf, mapRun, type MappedRun } from '../../src/validate/map-run.js';
import { loadPublishedRuns, type PublishedRun } from '../../src/validate/runs-file.js';

// Test fixtures only: the shape of sc21-t1-18B moved onto DGX H100 with GQA and FlashAttention. Not a published run.
const FILE = fileURLToPath(new URL('../../validation/published-runs.json', import.meta.url));
const base = loadPublishedRuns(FILE).find((r) => r.id === 'sc21-t1-18B')!;
const modern = (change: (r: PublishedRun) => void = () => {}): PublishedRun => {
  const r = structuredClone(base);
  r.id = 'fixture-h100-gqa-flash';
  r.model.kvHeads = 8;
  r.hardware.gpu = 'H100-SXM5-80GB';
  r.hardware.nicGbps = 400;
  r.hardware.description = 'NVLink4 + NVSwitch (DGX H100); 8x ConnectX-7 NDR 400 Gb/s; DGX H100 SuperPOD';
  r.flashAttention = 'yes (FlashAttention-2)';
  r.precision = 'bf16 mixed';
  change(r);
  return r;
};
const mapped = (run: PublishedRun): MappedRun => {
  const m = mapRun(run, 'runs.json');
  if (!m.ok) throw new Error(`${run.id} skipped: ${m.reason}`);
  return m.mapped;
};
const reason = (run: PublishedRun) => {
  const m = mapRun(run, 'runs.json');
  return m.ok ? 'mapped' : m.reason;
};

describe('validate maps GQA, FlashAttention and DGX H100 runs', () => {
  it('kv_heads < heads → numKvHeads; "yes…" flash → the flash kernel; H100 + 400 Gb/s → dgx-h100; bf16', () => {
    const m = mapped(modern());
    expect(m.cfg).toMatchObject({ numHeads: 48, numKvHeads: 8, attentionKernel: 'flash' });
    expect(m.cluster).toMatchObject({ profile: 'dgx-h100', overrides: { nodes: 32, gpu: 'h100' } });
    expect(m.plan).toMatchObject({ tp: 8, precision: 'bf16' });
    expect(m.assumptions.join(' ')).toMatch(/FlashAttention-2 with the h100 profile's forward\/backward efficiencies/);
    expect(m.assumptions.join(' ')).toMatch(/NCCL 2\.10\.3's tuning model/);
  });

  it('reads the flash_attention text tolerantly but explicitly', () => {
    expect(['no', 'no (fused scale-mask-softmax kernels)', '', ' No'].map(attentionKernelOf)).toEqual(['materialized', 'materialized', 'materialized', 'materialized']);
    expect(['yes', 'Yes, FA2', 'FA2', 'FA3 (cuDNN)', 'flash-attn 2.4', 'FlashAttention-2'].map(attentionKernelOf)).toEqual(Array(6).fill('flash'));
    expect(attentionKernelOf('cuDNN fused attention')).toBeUndefined();
    expect(reason(modern((r) => { r.flashAttention = 'TE fused attention'; }))).toMatch(/flash_attention "TE fused attention": not recognised/);
  });

  it('H100 names: "H100 80GB SXM" too; a 200 Gb/s HCA on DGX H100 is skipped with the reason', () => {
    expect(mapped(modern((r) => { r.hardware.gpu = 'H100 80GB SXM'; })).cluster.overrides.gpu).toBe('h100');
    expect(reason(modern((r) => { r.hardware.nicGbps = 200; }))).toMatch(/200 Gb\/s HCAs: the dgx-h100 profile has 400 Gb\/s NDR/);
  });

  it('parallelism.sp maps to the plan\'s sequenceParallel', () => {
    expect(mapped(modern((r) => { r.parallelism.sp = true; })).plan.sequenceParallel).toBe(true);
  });

  it('still skips CP, EP and FSDP with reasons; a TP that does not divide the KV heads too', () => {
    expect(reason(modern((r) => { r.parallelism.cp = 2; }))).toMatch(/context parallelism \(cp 2\) is not modelled/);
    expect(reason(modern((r) => { r.parallelism.ep = 8; }))).toMatch(/expert parallelism \(ep 8\) is not modelled/);
    expect(reason(modern((r) => { r.parallelism.fsdp = true; }))).toMatch(/FSDP is not modelled/);
    expect(reason(modern((r) => { r.model.kvHeads = 4; }))).toMatch(/TP 8 does not divide the 4 KV heads/);
  });
});
