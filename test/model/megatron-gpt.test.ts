import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { paddedVocabSize, rotaryDims, validateConfig, type NeoXConfig } from '../../src/model/config.js';
import { embeddingOps } from '../../src/model/embedding-ops.js';
import { megatronFlops, opListFlops } from '../../src/model/flops.js';
import { headOps } from '../../src/model/head-ops.js';
import { layerOps } from '../../src/model/layer-ops.js';
import { isCompute, type ComputeOp } from '../../src/model/ops.js';
import { countParams, embeddingParamTensors, neoxPrintedParams, paramTensors } from '../../src/model/params.js';
import { pipelineStages } from '../../src/model/pipeline-partition.js';

/**
 * The GPT shapes of Megatron-LM's SC'21 Table 1 (Narayanan et al. 2021 §5.1): learned absolute position
 * embeddings, word embeddings tied to the output layer, a sequential (pre-LN) residual, vocabulary 51,200.
 */
const megatron = (name: string, l: number, h: number, heads: number, extra: Partial<NeoXConfig> = {}): NeoXConfig => ({
  name, numLayers: l, hiddenSize: h, numHeads: heads, ffnHiddenSize: 4 * h, vocabSize: 51_200, makeVocabSizeDivisibleBy: 128,
  seqLength: 2048, maxPositionEmbeddings: 2048, positionEmbedding: 'learned', rotaryPct: 0, rotaryEmbBase: 10000, layernormEpsilon: 1e-5,
  parallelResidual: false, activation: 'gelu-erf', tieWordEmbeddings: true, initMethod: 'normal', outputLayerInitMethod: 'scaled_normal', initMethodStd: 0.02,
  ...extra,
});
const TABLE_1 = [megatron('1.7B', 24, 2304, 24), megatron('18B', 40, 6144, 48), megatron('145B', 80, 12288, 96), megatron('1T', 128, 25600, 160)];

describe('Megatron GPT: learned positions, tied embeddings', () => {
  it('parameters are the paper\'s P = 12lh²(1 + 13/12h + (V + s)/12lh) plus the final LayerNorm\'s 2h', () => {
    for (const cfg of TABLE_1) {
      const { numLayers: l, hiddenSize: h } = cfg;
      const V = 51_200;
      const s = 2048;
      const paper = 12 * l * h * h + 13 * l * h + (V + s) * h;
      expect(countParams(cfg).total).toBe(paper + 2 * h);
    }
    // 1.7B: 1,652,226,048 + 4,608 (the table rounds to 1.7).
    expect(countParams(TABLE_1[0]!).total).toBe(1_652_230_656);
  });

  it('the position table is [maxPositions, h], replicated on every TP rank, in the weight-decay group; the word table is counted once', () => {
    const cfg = TABLE_1[0]!;
    const [words, pos] = embeddingParamTensors(cfg, 8);
    expect(words).toMatchObject({ name: 'gpt_neox.embed_in.weight', shape: [51_200, 2304], split: 'vocab' });
    expect(pos).toMatchObject({ name: 'gpt_neox.embed_pos.weight', shape: [2048, 2304], split: 'replicated', noWeightDecay: false });
    expect(paramTensors(cfg).filter((t) => t.name === 'gpt_neox.embed_in.weight')).toHaveLength(1);
    expect(paramTensors(cfg).some((t) => t.name === 'embed_out.weight')).toBe(false);
  });

  it('V = 51,200 needs no padding at TP 1, 2, 4, 8 (a multiple of 128 × 8)', () => {
    for (const tp of [1, 2, 4, 8]) expect(paddedVocabSize(TABLE_1[0]!, tp)).toBe(51_200);
  });

  it('with PP > 1 the head stage holds a copy of the word embedding only, and gpt-neox-style counting adds it once', () => {
    const cfg = TABLE_1[0]!;
    const stages = pipelineStages(cfg, 2, 1);
    expect(stages[1]!.paramsPerRank - stages[0]!.paramsPerRank).toBe(2 * 2304 - 2048 * 2304); // final norm − position table
    const replicated = 24 * (4 * 2304 + 2 * 2304) + 2 * 2304 + 2048 * 2304; // LayerNorms, row-parallel biases, final norm, positions
    expect(neoxPrintedParams(cfg, 2, 2) - countParams(cfg, 2).total).toBe(replicated + 51_200 * 2304);
  });

  it('turns rotary off and adds the position lookup, the sum and its gradient to the embedding ops', () => {
    const cfg = TABLE_1[0]!;
    expect(rotaryDims(cfg)).toBe(0);
    const opts = { tp: 2, microBatch: 4, recompute: 'full' as const };
    expect(layerOps(cfg, opts).some((o) => o.name.includes('rotary'))).toBe(false);
    const ops = embeddingOps(cfg, opts).filter(isCompute);
    const byName = (n: string) => ops.find((o) => o.name === n) as ComputeOp;
    const T = 4 * 2048;
    expect(ops.map((o) => `${o.phase} ${o.name}`)).toEqual([
      'forward embed_in.mask-ids', 'forward embed_in', 'forward embed_in.mask-rows', 'forward embed_pos', 'forward embed_pos.add', 'forward embed_in.transpose',
      'backward embed_in.transpose.backward', 'backward embed_in.mask-rows.backward', 'backward embed_in.backward', 'backward embed_in.grad-accumulate',
      'backward embed_pos.backward', 'backward embed_pos.grad-accumulate',
    ]);
    expect(byName('embed_pos')).toMatchObject({ kind: 'embedding', bytesRead: 8 * T + 2 * T * 2304, bytesWritten: 2 * T * 2304 });
    expect(byName('embed_pos.backward').bytesWritten).toBe(2 * 2048 * 2304);
    expect(byName('embed_pos.grad-accumulate').m).toBe(2048 * 2304);
    // The rotary model's embedding is unchanged by the feature.
    const rotary = { ...cfg, positionEmbedding: undefined };
    expect(embeddingOps(rotary, opts).some((o) => o.name.startsWith('embed_pos'))).toBe(false);
  });

  it('the tied logits are the word embedding used as the output layer: 6·B·s·h·V of matmul per micro-batch, no separate table', () => {
    const cfg = TABLE_1[0]!;
    const head = headOps(cfg, { tp: 1, microBatch: 2, recompute: 'none' }).filter(isCompute).filter((o) => o.term === 'logits');
    expect(head.map((o) => o.name)).toEqual(['embed_in.as-output', 'embed_in.as-output.dgrad', 'embed_in.as-output.wgrad']);
    expect(head.reduce((a, o) => a + o.flops, 0)).toBe(6 * 2 * 2048 * 2304 * 51_200);
  });

  // Megatron's eq. (3) counts the logit GEMM forward and its two backward GEMMs, 6·B·s·h·V (the V/16lh term
  // with recompute): the input embedding is a gather, so the count is the same tied or untied; tying only
  // decides which weight those GEMMs use and where its gradient goes.
  for (const cfg of TABLE_1) {
    for (const tp of [1, 8]) {
      for (const recompute of ['full', 'none'] as const) {
        it(`op-list matmul FLOPs equal eq. (3) term by term: ${cfg.name}, TP ${tp}, recompute ${recompute}`, () => {
          const ops = opListFlops(cfg, { tp, microBatch: 2, recompute });
          const formula = megatronFlops(cfg, { batch: 2 }, recompute === 'full', tp);
          for (const k of ['dense', 'attention', 'logits', 'total'] as const) expect(ops[k] / formula[k] - 1).toBeCloseTo(0, 12);
        });
      }
    }
  }

  it('validates the position-embedding choice', () => {
    expect(() => validateConfig({ ...TABLE_1[0]!, positionEmbedding: 'alibi' as 'learned' })).toThrow(InputError);
    expect(() => validateConfig({ ...TABLE_1[0]!, positionEmbedding: 'alibi' as 'learned' })).toThrow(/positionEmbedding: expected "rotary" or "learned", got "alibi"/);
  });
});
