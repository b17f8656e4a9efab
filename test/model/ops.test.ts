import { describe, expect, it } from 'vitest';
import type { NeoXConfig } from '../../src/model/config.js';
import { embeddingOps } from '../../src/model/embedding-ops.js';
import { matmulTerms, megatronFlops, opListFlops } from '../../src/model/flops.js';
import { headOps } from '../../src/model/head-ops.js';
import { layerOps } from '../../src/model/layer-ops.js';
import { isCompute, type ComputeOp, type Op, type OpOptions } from '../../src/model/ops.js';
import { getPreset } from '../../src/model/presets.js';

const neox20b = getPreset('neox-20b');
const sequential = (cfg: NeoXConfig): NeoXConfig => ({ ...cfg, parallelResidual: false });

/** Shapes unlike the examples: odd layer counts, non-power-of-two heads, short sequences, erf GELU. */
const shapes: [string, NeoXConfig, number[]][] = [
  ['neox-20b', neox20b, [1, 2, 4, 8]],
  ['pythia-160m', getPreset('pythia-160m'), [1, 2, 3, 4]],
  ['pythia-12b', getPreset('pythia-12b'), [1, 4, 8]],
  ['neox-tiny3 (erf, sequential)', { ...sequential(getPreset('neox-tiny3')), activation: 'gelu-erf' }, [1, 2, 3, 6]],
  ['odd shape', { ...getPreset('neox-small'), numLayers: 5, hiddenSize: 384, numHeads: 12, ffnHiddenSize: 1536, seqLength: 96, vocabSize: 1000 }, [1, 2, 3, 4]],
];

describe('op-list FLOPs equal the Megatron formula term by term', () => {
  for (const [label, cfg, tps] of shapes) {
    for (const tp of tps) {
      for (const recompute of ['none', 'full'] as const) {
        it(`${label}, TP ${tp}, recompute ${recompute}`, () => {
          const microBatch = 3;
          const seqLength = cfg.seqLength;
          const fromOps = opListFlops(cfg, { tp, microBatch, recompute });
          const formula = megatronFlops(cfg, { batch: microBatch, seqLength }, recompute === 'full', tp);
          expect(fromOps.dense).toBe(formula.dense);
          expect(fromOps.attention).toBe(formula.attention);
          expect(fromOps.logits).toBe(formula.logits);
        });
      }
    }
  }

  it('generalises to an MLP that is not 4h: 2·T·(4h² + 2·h·f) per layer and pass', () => {
    const cfg = { ...getPreset('neox-small'), ffnHiddenSize: 640 };
    const T = 3 * cfg.seqLength;
    const h = cfg.hiddenSize;
    for (const tp of [1, 2, 4]) {
      const dense = opListFlops(cfg, { tp, microBatch: 3, recompute: 'full' }).dense;
      expect(dense).toBe(4 * cfg.numLayers * 2 * T * (4 * h * h + 2 * h * 640));
    }
  });

  it('the 96 and 72 forms expand to the published factors (1 + s/6h + V/16lh) and (1 + s/6h + V/12lh)', () => {
    const B = 1536;
    const { seqLength: s, numLayers: l, hiddenSize: h } = neox20b;
    const V = 50432;
    const rel = (a: number, b: number) => Math.abs(a - b) / b;
    expect(rel(megatronFlops(neox20b, { batch: B }, true, 2).total, 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h)))).toBeLessThan(1e-12);
    expect(rel(megatronFlops(neox20b, { batch: B }, false, 2).total, 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h)))).toBeLessThan(1e-12);
  });
});

const comms = (ops: Op[], phase: string) => ops.filter((o) => o.type === 'comm' && o.phase === phase);
const compute = (ops: Op[]) => ops.filter(isCompute);
const byName = (ops: Op[], name: string) => compute(ops).find((o) => o.name === name)!;

describe('one layer on one TP rank', () => {
  const opts: OpOptions = { tp: 2, microBatch: 4, recompute: 'full' };
  const ops = layerOps(neox20b, opts);
  const T = 2048 * 4;

  it('has the 2022 kernels with per-rank shapes (column splits n, row splits k, heads split the BMM batch)', () => {
    expect(byName(ops, 'attention.query_key_value')).toMatchObject({ kind: 'gemm', m: T, n: 9216, k: 6144, batch: 1 });
    expect(byName(ops, 'attention.scores')).toMatchObject({ kind: 'bmm', m: 2048, n: 2048, k: 96, batch: 4 * 32 });
    expect(byName(ops, 'attention.softmax')).toMatchObject({ kind: 'softmax', m: 4 * 32 * 2048 * 2048, dtype: 'fp16' });
    expect(byName(ops, 'attention.context')).toMatchObject({ kind: 'bmm', m: 2048, n: 96, k: 2048, batch: 128 });
    expect(byName(ops, 'attention.dense')).toMatchObject({ kind: 'gemm', m: T, n: 6144, k: 3072 });
    expect(byName(ops, 'mlp.dense_h_to_4h')).toMatchObject({ m: T, n: 12288, k: 6144 });
    expect(byName(ops, 'mlp.bias-gelu')).toMatchObject({ kind: 'elementwise', m: T * 12288 });
    expect(byName(ops, 'mlp.dense_4h_to_h')).toMatchObject({ m: T, n: 6144, k: 12288 });
    expect(byName(ops, 'attention.rotary')).toMatchObject({ kind: 'elementwise', m: 2 * T * 32 * 24 });
  });

  it('splits every weight GEMM backward into an input-gradient and a weight-gradient GEMM', () => {
    for (const g of ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h']) {
      const fwd = byName(ops, g) as ComputeOp;
      const dgrad = byName(ops, `${g}.dgrad`) as ComputeOp;
      const wgrad = byName(ops, `${g}.wgrad`) as ComputeOp;
      expect([dgrad.m, dgrad.n, dgrad.k]).toEqual([fwd.m, fwd.k, fwd.n]);
      expect([wgrad.m, wgrad.n, wgrad.k]).toEqual([fwd.n, fwd.k, fwd.m]);
      expect(dgrad.phase).toBe('backward');
      expect(wgrad.flops).toBe(fwd.flops);
    }
  });

  it('counts compulsory traffic: a GEMM reads A and B and writes C once, in fp16', () => {
    const qkv = byName(ops, 'attention.query_key_value');
    expect(qkv.flops).toBe(2 * T * 9216 * 6144);
    expect(qkv.bytesRead).toBe(2 * (T * 6144 + 6144 * 9216));
    expect(qkv.bytesWritten).toBe(2 * T * 9216);
    const softmax = byName(ops, 'attention.softmax');
    expect(softmax.bytesRead).toBe(2 * 128 * 2048 * 2048);
    expect(softmax.bytesWritten).toBe(2 * 128 * 2048 * 2048);
  });

  it('marks the TP sync points: parallel residual = 1 forward all-reduce, 2 backward, 1 more in the recompute', () => {
    const message = 2 * T * 6144;
    expect(comms(ops, 'forward').map((c) => [c.name, (c as { bytes: number }).bytes])).toEqual([['layer.all-reduce', message]]);
    expect(comms(ops, 'recompute')).toHaveLength(1);
    expect(comms(ops, 'backward').map((c) => c.name)).toEqual(['mlp.input-grad.all-reduce', 'attention.input-grad.all-reduce']);
  });

  it('a sequential residual all-reduces after each row-parallel GEMM', () => {
    const seq = layerOps(sequential(neox20b), { tp: 4, microBatch: 1, recompute: 'none' });
    expect(comms(seq, 'forward').map((c) => c.name)).toEqual(['attention.dense.all-reduce', 'mlp.dense_4h_to_h.all-reduce']);
    expect(comms(seq, 'backward')).toHaveLength(2);
    expect(comms(seq, 'recompute')).toHaveLength(0);
  });

  it('has no collectives at TP 1, and per-rank matmul FLOPs × TP equal the TP 1 FLOPs', () => {
    const one = layerOps(neox20b, { tp: 1, microBatch: 4, recompute: 'full' });
    expect(one.some((o) => o.type === 'comm')).toBe(false);
    for (const tp of [2, 4, 8]) {
      const t = matmulTerms(layerOps(neox20b, { tp, microBatch: 4, recompute: 'full' }));
      const base = matmulTerms(one);
      expect(t.total * tp).toBe(base.total);
    }
  });

  it('launches dropout kernels only when dropout is on (the 20B run used 0)', () => {
    expect(compute(ops).some((o) => o.name.includes('dropout'))).toBe(false);
    const withDropout = layerOps(neox20b, { ...opts, attentionDropout: 0.1, hiddenDropout: 0.1 });
    expect(compute(withDropout).filter((o) => o.phase === 'forward' && o.name.includes('dropout')).map((o) => o.name))
      .toEqual(['attention.dropout', 'attention.hidden-dropout', 'mlp.hidden-dropout']);
  });

  it('models exact GELU as an unfused bias add plus GELU', () => {
    const erf = layerOps({ ...neox20b, activation: 'gelu-erf' }, opts);
    expect(compute(erf).filter((o) => o.phase === 'forward' && o.name.startsWith('mlp.')).map((o) => o.name))
      .toEqual(['mlp.dense_h_to_4h', 'mlp.dense_h_to_4h.bias', 'mlp.gelu', 'mlp.dense_4h_to_h', 'mlp.dense_4h_to_h.bias', 'mlp.plus-attention']);
  });

  it('selective recompute re-runs only the attention core', () => {
    const sel = layerOps(neox20b, { ...opts, recompute: 'selective' });
    expect(sel.filter((o) => o.phase === 'recompute').map((o) => o.name)).toEqual(['attention.scores', 'attention.softmax']);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(layerOps(neox20b, opts))).toBe(JSON.stringify(layerOps(neox20b, opts)));
  });
});

describe('embedding and head', () => {
  const opts: OpOptions = { tp: 2, microBatch: 4, recompute: 'full' };
  const T = 2048 * 4;

  it('the head computes column-parallel fp16 logits and an fp32 vocab-parallel cross-entropy with three s·b all-reduces', () => {
    const ops = headOps(neox20b, opts);
    expect(byName(ops, 'embed_out')).toMatchObject({ kind: 'gemm', m: T, n: 50432 / 2, k: 6144, term: 'logits' });
    expect(byName(ops, 'loss.logits-to-fp32')).toMatchObject({ bytesRead: 2 * T * 25216, bytesWritten: 4 * T * 25216 });
    expect(comms(ops, 'forward').map((c) => [c.name, (c as { bytes: number; dtype: string }).bytes, (c as { dtype: string }).dtype])).toEqual([
      ['loss.max.all-reduce', 4 * T, 'fp32'], ['loss.target-logit.all-reduce', 4 * T, 'fp32'], ['loss.sum-exp.all-reduce', 4 * T, 'fp32'],
    ]);
    expect(comms(ops, 'backward').map((c) => c.name)).toEqual(['embed_out.input-grad.all-reduce']);
    expect(ops.some((o) => o.phase === 'recompute')).toBe(false);
    // The fp32 softmax kept for the backward: 4 B × s·b × V/TP (≈ 0.83 GB at micro-batch 4).
    expect(byName(ops, 'loss.softmax').saves).toEqual([{ name: 'loss.softmax', bytes: 4 * T * 25216 }]);
  });

  it('the vocab-parallel embedding all-reduces its output at TP > 1 only', () => {
    expect(comms(embeddingOps(neox20b, opts), 'forward').map((c) => c.name)).toEqual(['embed_in.all-reduce']);
    expect(embeddingOps(neox20b, { ...opts, tp: 1 }).some((o) => o.type === 'comm')).toBe(false);
  });

  it('rejects a TP degree that does not divide the heads', () => {
    expect(() => layerOps(neox20b, { ...opts, tp: 3 })).toThrow(/divisor of num-attention-heads \(64\)/);
  });
});
