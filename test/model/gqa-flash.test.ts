import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { korthikantiActivationBytes, layerActivationBytes } from '../../src/model/activation-memory.js';
import { qkvWidth, type NeoXConfig } from '../../src/model/config.js';
import { layerOps } from '../../src/model/layer-ops.js';
import { isCompute, type ComputeOp, type OpOptions } from '../../src/model/ops.js';
import { countParams } from '../../src/model/params.js';
import { getPreset } from '../../src/model/presets.js';
import { ComputeModel } from '../../src/sim/compute/compute-model.js';

/** A Llama-2-70B-sized layer in the NeoX architecture (LayerNorm with bias, biased GEMMs, GELU MLP): h 8192, 64 heads, 8 KV heads, MLP 28672. */
const GQA: NeoXConfig = { ...getPreset('neox-20b'), name: 'gqa-70b-like', numLayers: 1, hiddenSize: 8192, numHeads: 64, numKvHeads: 8, ffnHiddenSize: 28672, seqLength: 4096, maxPositionEmbeddings: 4096, rotaryPct: 1 };
const computeOps = (cfg: NeoXConfig, opts: OpOptions) => layerOps(cfg, opts).filter(isCompute);
const op = (ops: ComputeOp[], name: string, phase = 'forward') => ops.find((o) => o.name === name && o.phase === phase);

describe('grouped-query attention', () => {
  it('QKV width (64 + 2·8)·128 = 10,240 and the layer\'s parameters by hand', () => {
    expect(qkvWidth(GQA)).toBe(10_240);
    // 2 LayerNorms 4·8192; QKV 10240·8192 + 10240; dense 8192² + 8192; h→4h 28672·8192 + 28672; 4h→h 8192·28672 + 8192.
    const byHand = 4 * 8192 + (10_240 * 8192 + 10_240) + (8192 * 8192 + 8192) + (28_672 * 8192 + 28_672) + (8192 * 28_672 + 8192);
    expect(byHand).toBe(620_845_056);
    expect(countParams(GQA).perLayer).toBe(620_845_056);
    // Multi-head attention would have 3h = 24,576 QKV rows: 14,336 more, each with 8,192 weights and a bias.
    expect(countParams({ ...GQA, numKvHeads: undefined }).perLayer - 620_845_056).toBe(14_336 * 8193);
  });

  it('the QKV GEMM on one of 8 TP ranks: [s·b, 8192] × [8192, 1280] (8 query heads and 1 KV head of 128)', () => {
    const ops = computeOps(GQA, { tp: 8, microBatch: 1, recompute: 'none' });
    expect(op(ops, 'attention.query_key_value')).toMatchObject({ m: 4096, n: 1280, k: 8192, flops: 2 * 4096 * 1280 * 8192 });
    expect(op(ops, 'attention.query_key_value.wgrad', 'backward')).toMatchObject({ m: 1280, n: 8192, k: 4096 });
    // Score and context FLOPs per query head are those of multi-head attention.
    const mha = computeOps({ ...GQA, numKvHeads: undefined }, { tp: 8, microBatch: 1, recompute: 'none' });
    expect(op(ops, 'attention.scores')!.flops).toBe(op(mha, 'attention.scores')!.flops);
    expect(op(ops, 'attention.kv-expand')).toMatchObject({ bytesRead: 2 * 4096 * 128 * 2, bytesWritten: 2 * 4096 * 1024 * 2 });
  });

  it('numKvHeads = heads is multi-head attention, op for op', () => {
    const opts: OpOptions = { tp: 2, microBatch: 2, recompute: 'selective' };
    const neox = getPreset('neox-20b');
    expect(layerOps({ ...neox, numKvHeads: neox.numHeads }, opts)).toEqual(layerOps(neox, opts));
  });

  it('TP must divide the KV heads (Megatron-core does not replicate them)', () => {
    expect(() => layerOps(GQA, { tp: 16, microBatch: 1, recompute: 'none' })).toThrow(/key\/value heads \(8/);
  });
});

describe('FlashAttention', () => {
  const neox: NeoXConfig = { ...getPreset('neox-20b'), numLayers: 1 };
  const flash: NeoXConfig = { ...neox, attentionKernel: 'flash' };
  const opts: OpOptions = { tp: 2, microBatch: 4, recompute: 'none', attentionDropout: 0.1 };

  it('one fused forward (causal: half of 4·b·s²·d per head) and one fused backward of 2.5× its FLOPs; no s² ops', () => {
    const ops = computeOps(flash, opts);
    const [b, s, heads, d] = [4, 2048, 64 / 2, 96];
    expect(op(ops, 'attention.flash')).toMatchObject({ kind: 'flash-attention', flops: (4 * b * s * s * d * heads) / 2 });
    expect(op(ops, 'attention.flash.backward', 'backward')).toMatchObject({ kind: 'flash-attention-backward', flops: 2.5 * (4 * b * s * s * d * heads) / 2 });
    expect(ops.filter((o) => o.kind === 'bmm' || o.kind === 'softmax' || o.name.startsWith('attention.dropout'))).toEqual([]);
  });

  it('saves no s² tensor: stored activations lose exactly the 5·a·s²·b/t bytes, keeping the fp32 logsumexp', () => {
    const [a, s, b, t] = [64, 2048, 4, 2];
    const materialized = layerActivationBytes(neox, opts).stored;
    const fused = layerActivationBytes(flash, opts).stored;
    expect(materialized - fused).toBe((5 * a * s * s * b) / t - 4 * b * (a / t) * s);
    expect(korthikantiActivationBytes(flash, opts)).toBe(korthikantiActivationBytes(flash, { ...opts, recompute: 'selective' }));
  });

  it('selective recompute is moot (nothing to recompute); full recompute replays the fused forward', () => {
    const selective = layerOps(flash, { ...opts, recompute: 'selective' });
    expect(selective.filter((o) => o.phase === 'recompute')).toEqual([]);
    expect(layerActivationBytes(flash, { ...opts, recompute: 'selective' }).stored).toBe(layerActivationBytes(flash, opts).stored);
    const full = computeOps(flash, { ...opts, recompute: 'full' });
    expect(op(full, 'attention.flash', 'recompute')).toBeDefined();
  });

  it('is timed on the tensor cores at the profile\'s FlashAttention-2 efficiency', () => {
    const cluster = loadCluster('dgx-a100', { nodes: 1 });
    const cm = new ComputeModel(cluster.gpu);
    const ops = computeOps(flash, opts);
    const fwd = op(ops, 'attention.flash')!;
    const bwd = op(ops, 'attention.flash.backward', 'backward')!;
    expect(cm.timing(fwd).bound).toBe('compute');
    expect(cm.time(fwd)).toBeCloseTo(fwd.flops / (312e12 * 0.73), 12);
    expect(cm.time(bwd)).toBeCloseTo(bwd.flops / (312e12 * 0.63), 12);
  });
});

describe('DGX H100 on NDR', () => {
  it('dgx-h100 with 4 nodes: 32 H100s, 8 ConnectX-7 at 400 Gb/s per node, 18 NVLink 4 links per GPU', () => {
    const c = loadCluster('dgx-h100', { nodes: 4 });
    expect(c).toMatchObject({ gpuCount: 32, hcaCount: 32, gpusPerNode: 8, hcasPerNode: 8 });
    expect(c.gpu.id).toBe('h100-sxm5-80gb');
    expect(c.nic.id).toBe('connectx-7-ndr');
    expect(c.nic.lineRate).toBe(50e9);
    expect(c.nic.achievable).toBe(47e9);
    expect(c.gpu.nvlinkLinks).toBe(18);
    expect(c.gpu.nvlinkBandwidth).toBe(450e9);
    const kinds = new Map<string, number>();
    for (const l of c.topology.links) kinds.set(l.cls, (kinds.get(l.cls) ?? 0) + 1);
    // Directed links: 32 GPU↔NVSwitch pairs, 32 HCA↔leaf pairs.
    expect(kinds.get('nvlink')).toBe(64);
    expect(kinds.get('hca')).toBe(64);
  });
});
