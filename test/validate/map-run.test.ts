import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { megatronFlops } from '../../src/model/flops.js';
import { getPreset } from '../../src/model/presets.js';
import { NEOX_20B_PLAN } from '../../src/sim/run/run-settings.js';
import { mapRun, type MappedRun } from '../../src/validate/map-run.js';
import { loadPublishedRuns, type PublishedRun } from '../../src/validate/runs-file.js';

const FILE = fileURLToPath(new URL('../../validation/published-runs.json', import.meta.url));
const runs = loadPublishedRuns(FILE);
const byId = (id: string) => runs.find((r) => r.id === id)!;
const mapped = (run: PublishedRun): MappedRun => {
  const m = mapRun(run, 'runs.json');
  if (!m.ok) throw new Error(`${run.id} skipped: ${m.reason}`);
  return m.mapped;
};
const variant = (id: string, change: (r: PublishedRun) => void): PublishedRun => {
  const r = structuredClone(byId(id));
  change(r);
  return r;
};

describe('the published-runs file', () => {
  it('holds the 10 Megatron-LM SC\'21 Table 1 runs and GPT-NeoX-20B, each with its source', () => {
    expect(runs.map((r) => r.id)).toEqual([
      'sc21-t1-1.7B', 'sc21-t1-3.6B', 'sc21-t1-7.5B', 'sc21-t1-18B', 'sc21-t1-39B', 'sc21-t1-76B', 'sc21-t1-145B', 'sc21-t1-310B', 'sc21-t1-530B', 'sc21-t1-1T', 'gpt-neox-20b',
    ]);
    for (const r of runs) expect(r.citation).toMatch(/arXiv/);
  });

  it('every run maps to a model, a cluster and a plan (none skipped)', () => {
    for (const r of runs) expect(mapRun(r, FILE).ok).toBe(true);
  });
});

describe('runs map to the intended model, cluster and plan (hand-checked)', () => {
  it('sc21-t1-1.7B: 32 A100-80GB on 4 DGX nodes, TP 1 PP 1 DP 32, micro-batch 16, GAS = 512 / (16 × 32) = 1; Megatron GPT', () => {
    const m = mapped(byId('sc21-t1-1.7B'));
    expect(m.cluster).toMatchObject({ profile: 'dgx-a100', overrides: { nodes: 4, gpu: 'a100-80gb' } });
    expect(m.plan).toMatchObject({ tp: 1, pp: 1, dp: 32, microBatch: 16, gradAccumSteps: 1, zeroStage: 0, recompute: 'full', precision: 'fp16', ppScatterGather: false });
    // "DDP impl=torch": PyTorch DDP's 25 MB buckets overlap the last backward.
    expect(m.plan).toMatchObject({ overlapComm: true, reduceBucketSize: 13_107_200 });
    expect(m.cfg).toMatchObject({ numLayers: 24, hiddenSize: 2304, numHeads: 24, ffnHiddenSize: 9216, vocabSize: 51_200, positionEmbedding: 'learned', tieWordEmbeddings: true, parallelResidual: false });
    expect(m.assumptions).toEqual([]);
  });

  it('sc21-t1-145B: 1,536 GPUs on 192 nodes, TP 8 PP 8 DP 24, micro-batch 2, GAS = 2304 / (2 × 24) = 48, interleaved v = 2 with scatter/gather, local DDP', () => {
    const m = mapped(byId('sc21-t1-145B'));
    expect(m.cluster.overrides).toEqual({ nodes: 192, gpu: 'a100-80gb' });
    expect(m.plan).toMatchObject({
      tp: 8, pp: 8, dp: 24, microBatch: 2, gradAccumSteps: 48, schedule: 'interleaved', virtualStages: 2, p2p: 'async', ppScatterGather: true, overlapComm: false,
      rankOrder: ['pipe', 'data', 'model'], hiddenDropout: 0.1, attentionDropout: 0.1,
    });
  });

  it('sc21-t1-39B: no virtual stages in the script → Megatron\'s 1F1B, stated as an assumption; GAS = 1536 / (4 × 32) = 12', () => {
    const m = mapped(byId('sc21-t1-39B'));
    expect(m.plan).toMatchObject({ tp: 8, pp: 2, dp: 32, microBatch: 4, gradAccumSteps: 12, schedule: '1f1b', virtualStages: 1 });
    expect(m.assumptions.join(' ')).toMatch(/no virtual stages given \(vp null\): Megatron's non-interleaved 1F1B, 24 layers per stage/);
  });

  it('gpt-neox-20b: the 12 Supermicro servers, TP 2 PP 4 DP 12, GAS 32, ZeRO 1 — the neox-20b preset and configs/20B.yml, as `neox-sim simulate` runs it', () => {
    const m = mapped(byId('gpt-neox-20b'));
    expect(m.cluster).toMatchObject({ profile: 'supermicro12', overrides: { nodes: 12, gpu: 'a100-40gb' } });
    expect(m.plan).toMatchObject({ ...NEOX_20B_PLAN, dp: 12, p2p: 'sync-broadcast', schedule: '1f1b', ppScatterGather: false });
    expect({ ...m.cfg, name: '' }).toEqual({ ...getPreset('neox-20b'), name: '' });
    expect(m.published.seconds).toBeCloseTo(43.92, 10); // 1,830 h / 150,000 steps
    expect(m.published.tflopsPerGpu).toBe(117);
    expect(m.framework.convention).toBe('neoxLogger2022');
  });

  it('the file\'s derived seconds per iteration are eq. (3) FLOPs of our Megatron model over the reported TFLOP/s (V = 51,200)', () => {
    for (const r of runs.filter((x) => x.id.startsWith('sc21'))) {
      const m = mapped(r);
      const flops = megatronFlops(m.cfg, { batch: r.batch.globalBatch }, true, m.plan.tp).total;
      const seconds = flops / (r.reported.tflopsPerGpu! * 1e12 * r.hardware.numGpus);
      expect(Math.abs(seconds / m.published.seconds - 1)).toBeLessThan(2e-3);
      expect(m.framework.convention).toBe('megatron');
    }
  });
});

describe('runs that cannot be represented are skipped with the reason, never silently', () => {
  const reason = (r: PublishedRun) => {
    const m = mapRun(r, 'runs.json');
    return m.ok ? 'mapped' : m.reason;
  };
  it.each([
    ['a V100 GPU', (r: PublishedRun) => (r.hardware.gpu = 'V100-SXM2-32GB'), /GPU "V100-SXM2-32GB": no profile/],
    ['an unknown server', (r: PublishedRun) => (r.hardware.description = 'HGX H100; RoCE fabric; Meta RSC'), /hardware ".*Meta RSC": no server\/fabric profile/],
    ['400 Gb/s HCAs', (r: PublishedRun) => (r.hardware.nicGbps = 400), /400 Gb\/s HCAs/],
    ['sequence parallelism at TP 1 (the plan rejects it)', (r: PublishedRun) => (r.parallelism.sp = true), /plan not representable: .*sequence/i],
    ['KV heads that do not group the query heads', (r: PublishedRun) => (r.model.kvHeads = 5), /5 KV heads do not divide the 24 query heads/],
    ['an unknown framework', (r: PublishedRun) => (r.framework = 'Colossal-AI'), /framework "Colossal-AI"/],
    ['an attention kernel not recognised', (r: PublishedRun) => (r.flashAttention = 'cuDNN fused attention'), /flash_attention "cuDNN fused attention": not recognised/],
    ['a plan the model cannot split', (r: PublishedRun) => (Object.assign(r.parallelism, { tp: 32, dp: 1 }), (r.batch.gradAccum = 32)), /plan not representable: .*tp: expected a divisor of num-attention-heads \(24\)/],
  ])('%s', (_name, change, want) => {
    expect(reason(variant('sc21-t1-1.7B', change))).toMatch(want);
  });

  it('inconsistent numbers are input errors naming the run and the field', () => {
    const bad = variant('sc21-t1-1.7B', (r) => (r.parallelism.dp = 16));
    expect(() => mapRun(bad, 'runs.json')).toThrow(InputError);
    expect(() => mapRun(bad, 'runs.json')).toThrow('runs.json: sc21-t1-1.7B: parallelism.dp: expected tp × pp × dp = hardware.num_gpus (32), got "1 × 1 × 16 = 16"');
    const gas = variant('sc21-t1-18B', (r) => (r.batch.gradAccum = 5));
    expect(() => mapRun(gas, 'runs.json')).toThrow(/sc21-t1-18B: batch.grad_accum: expected global_batch_seqs \/ \(micro_batch × dp\) = 1024 \/ \(8 × 32\), got 5/);
    const rc = variant('sc21-t1-18B', (r) => (r.recompute = 'sometimes'));
    expect(() => mapRun(rc, 'runs.json')).toThrow(/sc21-t1-18B: recompute: expected a description starting with "full", "selective" or "none", got "sometimes"/);
  });
});
