import { describe, expect, it } from 'vitest';
import { paddedVocabSize } from '../../src/model/config.js';
import { countParams, layerParamTensors, neoxPrintedParams, paramTensors, perRankNumel } from '../../src/model/params.js';
import { partitionBalanced, pipelineStages } from '../../src/model/pipeline-partition.js';
import { getPreset, PRESETS } from '../../src/model/presets.js';

const neox20b = getPreset('neox-20b');

describe('NeoX-20B parameter count', () => {
  it('is 20,554,567,680 unique parameters (HF model card nparameters)', () => {
    const c = countParams(neox20b);
    expect(c.total).toBe(20_554_567_680);
    expect(c.perLayer).toBe(453_064_704); // 12h² + 13h
    expect(c.embedding).toBe(2 * 309_854_208); // embed_in + embed_out, 50432 × 6144 each
    expect(c.nonEmbedding).toBe(19_934_859_264);
  });

  it('is 20,556,201,984 as gpt-neox prints it at TP = 2: replicated LayerNorms and row-parallel biases counted per rank', () => {
    expect(neoxPrintedParams(neox20b, 2, 4)).toBe(20_556_201_984);
    expect(neoxPrintedParams(neox20b, 1, 1)).toBe(20_554_567_680);
    // Per layer 2 LayerNorms (4h) + 2 row-parallel biases (2h), plus the final LayerNorm (2h), once more per extra rank.
    const h = 6144;
    expect(neoxPrintedParams(neox20b, 4, 1) - 20_554_567_680).toBe(3 * (44 * 6 * h + 2 * h));
  });

  it('names and shapes every tensor like the HF GPTNeoX checkpoint', () => {
    const layer = layerParamTensors(neox20b, 7);
    expect(layer.map((t) => [t.name, t.shape])).toContainEqual(['gpt_neox.layers.7.attention.query_key_value.weight', [3 * 6144, 6144]]);
    expect(layer.map((t) => [t.name, t.shape])).toContainEqual(['gpt_neox.layers.7.mlp.dense_4h_to_h.weight', [6144, 24576]]);
    const all = paramTensors(neox20b);
    expect(all).toHaveLength(1 + 44 * 12 + 3);
    expect(all[0]!.name).toBe('gpt_neox.embed_in.weight');
    expect(all[all.length - 1]).toMatchObject({ name: 'embed_out.weight', shape: [50432, 6144] });
    expect(all.filter((t) => t.summedOverTp).map((t) => t.name.split('.').slice(3).join('.'))).toEqual(
      Array.from({ length: 44 }, () => ['attention.dense.bias', 'mlp.dense_4h_to_h.bias']).flat(),
    );
  });

  it('per-stage, per-GPU counts at TP 2, PP 4 match the run (2,646,985,728 / 2,492,058,624 / 2,646,998,016)', () => {
    const stages = pipelineStages(neox20b, 4, 2);
    expect(stages.map((s) => [s.firstLayer, s.endLayer])).toEqual([[0, 11], [11, 22], [22, 33], [33, 44]]);
    expect(stages.map((s) => s.paramsPerRank)).toEqual([2_646_985_728, 2_492_058_624, 2_492_058_624, 2_646_998_016]);
    expect(stages[0]!.entries.map((e) => e.kind).slice(0, 2)).toEqual(['embedding', 'transpose']);
    expect(stages[3]!.entries.map((e) => e.kind).slice(-2)).toEqual(['final-norm', 'output']);
    // Everything a replica holds = what gpt-neox prints.
    expect(2 * stages.reduce((a, s) => a + s.paramsPerRank, 0)).toBe(20_556_201_984);
  });
});

describe('Pythia presets against the published counts (EleutherAI/pythia README)', () => {
  const published: Record<string, [number, number]> = {
    'pythia-14m': [14_067_712, 1_189_888],
    'pythia-31m': [30_494_720, 4_739_072],
    'pythia-70m': [70_426_624, 18_915_328],
    'pythia-160m': [162_322_944, 85_056_000],
    'pythia-410m': [405_334_016, 302_311_424],
    'pythia-1b': [1_011_781_632, 805_736_448],
    'pythia-1.4b': [1_414_647_808, 1_208_602_624],
    'pythia-2.8b': [2_775_208_960, 2_517_652_480],
    'pythia-6.9b': [6_857_302_016, 6_444_163_072],
    'pythia-12b': [11_846_072_320, 11_327_027_200],
  };
  for (const [name, [total, nonEmbedding]] of Object.entries(published)) {
    it(`${name}: ${total.toLocaleString('en-US')} total, ${nonEmbedding.toLocaleString('en-US')} non-embedding`, () => {
      const c = countParams(getPreset(name));
      expect([c.total, c.nonEmbedding]).toEqual([total, nonEmbedding]);
    });
  }

  it('keeps the embedding rows of the TP degree each was trained at (6.9B at TP 2, 12B at TP 4)', () => {
    expect(paddedVocabSize(getPreset('pythia-1b'), 1)).toBe(50304);
    expect(paddedVocabSize(getPreset('pythia-6.9b'), 1)).toBe(50432);
    expect(paddedVocabSize(getPreset('pythia-12b'), 2)).toBe(50688);
  });
});

describe('parameter accounting on any shape', () => {
  it('per-rank tensors summed over TP ranks, minus the replicas, give the unique count', () => {
    for (const name of Object.keys(PRESETS)) {
      const cfg = getPreset(name);
      for (const tp of [1, 2, 4].filter((t) => cfg.numHeads % t === 0)) {
        const tensors = paramTensors(cfg, tp);
        const perRank = tensors.reduce((a, t) => a + perRankNumel(t, tp), 0);
        const replicated = tensors.filter((t) => t.split === 'replicated').reduce((a, t) => a + t.numel, 0);
        expect(tp * perRank - (tp - 1) * replicated).toBe(countParams(cfg, tp).total);
        expect(tp * perRank).toBe(neoxPrintedParams(cfg, tp, 1));
      }
    }
  });

  it('unpinned vocabularies follow gpt-neox padding at the plan TP', () => {
    const tiny = getPreset('neox-tiny'); // 128 ids
    expect(paddedVocabSize(tiny, 1)).toBe(128);
    expect(paddedVocabSize(tiny, 2)).toBe(256);
    const small = getPreset('neox-small'); // 50277 ids
    expect([1, 2, 4, 8].map((tp) => paddedVocabSize(small, tp))).toEqual([50304, 50432, 50688, 51200]);
  });

  it('a tied model holds its embedding on both the first and the last stage, and gpt-neox counts both', () => {
    const tied = { ...getPreset('pythia-70m'), tieWordEmbeddings: true };
    const embed = 50304 * 512;
    expect(countParams(tied).total).toBe(70_426_624 - embed);
    expect(neoxPrintedParams(tied, 1, 2)).toBe(70_426_624);
    const stages = pipelineStages(tied, 2, 1);
    expect(stages.reduce((a, s) => a + s.paramsPerRank, 0)).toBe(70_426_624);
  });
});

describe('DeepSpeed partition_balanced port', () => {
  // Reference cut points from DeepSpeed's Python partition_balanced run on the same weights (gpt-neox's
  // layer list: embedding, lambda, L transformer layers, lambda, norm, output; weight 1 per transformer layer).
  const neox = (L: number) => [0, 0, ...Array<number>(L).fill(1), 0, 0, 0];
  const reference: [number, number, number[]][] = [
    [44, 4, [0, 13, 24, 35, 49]],
    [36, 8, [0, 7, 12, 17, 22, 27, 32, 37, 41]],
    [32, 4, [0, 10, 18, 26, 37]],
    [24, 5, [0, 7, 12, 17, 22, 29]],
    [6, 4, [0, 4, 6, 11, 11]],
    [12, 7, [0, 4, 6, 8, 10, 12, 17, 17]],
    [2, 4, [0, 3, 7, 7, 7]],
    [48, 16, [0, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41, 44, 47, 53]],
  ];
  for (const [L, pp, parts] of reference) {
    it(`${L} layers over ${pp} stages → ${parts.join(',')}`, () => expect(partitionBalanced(neox(L), pp)).toEqual(parts));
  }

  it('matches on parameter weights and on more parts than items', () => {
    expect(partitionBalanced([154927104, 0, ...Array<number>(44).fill(226550784), 0, 12288, 154927104], 4)).toEqual([0, 13, 24, 35, 49]);
    expect(partitionBalanced([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], 3)).toEqual([0, 5, 8, 11]);
    expect(partitionBalanced([1, 1], 4)).toEqual([0, 1, 2, 2, 2]);
  });

  it('"parameters" partitioning is available too', () => {
    const stages = pipelineStages(neox20b, 4, 2, 'parameters');
    expect(stages.map((s) => s.endLayer - s.firstLayer)).toEqual([11, 11, 11, 11]);
  });
});
