import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { paddedVocabSize, rotaryDims } from '../../src/model/config.js';
import { defaultTraining, type NeoxRun } from '../../src/model/neox-args.js';
import { exportNeoxYaml, vocabDivisorFor } from '../../src/model/neox-export.js';
import { importNeoxYaml, importParsed, parseNeoxYaml } from '../../src/model/neox-yaml.js';
import { getPreset } from '../../src/model/presets.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const reimport = (text: string, name: string, file = 'exported.yml') => importParsed([parseNeoxYaml(text, file)], { name });
const tmp = mkdtempSync(join(tmpdir(), 'neox-yaml-'));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('gpt-neox configs/20B.yml import', () => {
  const run = importNeoxYaml([fixture('20B.yml')]);

  it('gives exactly the neox-20b preset', () => {
    expect({ ...run.model, name: 'neox-20b' }).toEqual(getPreset('neox-20b'));
    expect(run.model.name).toBe('20B');
  });

  it('gives the run’s training and parallel settings', () => {
    expect(run.parallel).toEqual({ pipeParallelSize: 4, modelParallelSize: 2, pipePartitionMethod: 'type:transformer|mlp' });
    expect(run.training).toEqual({
      trainIters: 150000, trainMicroBatchSize: 4, gradientAccumulationSteps: 32, globalBatch: undefined,
      optimizerType: 'Adam', lr: 0.97e-4, minLr: 0.97e-5, warmup: 0.01, lrDecayStyle: 'cosine', lrDecayIters: 150000,
      adamBetas: [0.9, 0.95], adamEps: 1e-8, weightDecay: 0.01, gradientClipping: 1.0,
      zeroStage: 1, reduceBucketSize: 1_260_000_000, allgatherBucketSize: 1_260_000_000, overlapComm: true, reduceScatter: true, contiguousGradients: true,
      precision: 'fp16',
      lossScaler: { dynamic: true, staticScale: 0, initialScalePower: 12, window: 1000, hysteresis: 2, minScale: 1 },
      checkpointActivations: true, checkpointNumLayers: 1, partitionActivations: false,
      hiddenDropout: 0, attentionDropout: 0, evalInterval: 1000, evalIters: 10, saveInterval: 500, seed: 1234,
    });
  });

  it('passes the keys it does not model through, nested leftovers included', () => {
    expect(run.extra).toMatchObject({
      'vocab-file': './20B_checkpoints/20B_tokenizer.json',
      'data-path': './data/pile_20B_tokenizer/pile_20B_tokenizer_text_document',
      'scaled-upper-triang-masked-softmax-fusion': true,
      'synchronize-each-layer': true,
      tokenizer_type: 'HFTokenizer',
      zero_optimization: { allgather_partitions: true },
      fp16: { fp16: true },
    });
  });
});

describe('Pythia config import (EleutherAI/pythia models/6.9B/pythia-6.9b.yml)', () => {
  it('gives the pythia-6.9b preset: TP 2 padding (50432 rows), gpt-neox default init, checkpoint-factor as save interval', () => {
    const run = importNeoxYaml([fixture('pythia-6.9b.yml')]);
    expect({ ...run.model, name: 'pythia-6.9b' }).toEqual(getPreset('pythia-6.9b'));
    expect(run.training).toMatchObject({ trainMicroBatchSize: 8, gradientAccumulationSteps: 2, saveInterval: 1000, weightDecay: 0.1, partitionActivations: true });
    expect(run.extra['attention-config']).toEqual([[['flash'], 32]]);
  });
});

describe('export and re-import', () => {
  const run = importNeoxYaml([fixture('20B.yml')]);

  it('round-trips a run exactly at its own parallelism', () => {
    const back = reimport(exportNeoxYaml(run), run.model.name);
    expect(back).toEqual(run);
  });

  it('keeps the model at another TP/PP: the vocabulary divisor is chosen so gpt-neox pads to the same 50432 rows', () => {
    const text = exportNeoxYaml(run, { tp: 4, pp: 8 });
    const back = reimport(text, run.model.name);
    expect(back.parallel).toMatchObject({ modelParallelSize: 4, pipeParallelSize: 8 });
    expect(back.model).toEqual({ ...run.model, makeVocabSizeDivisibleBy: 64 });
    expect(back.training).toEqual(run.training);
    expect(back.extra).toEqual(run.extra);
    expect(vocabDivisorFor(run.model, 8)).toBe(32);
    expect(vocabDivisorFor(run.model, 1)).toBe(256);
  });

  it('writes gpt-neox key names, floats PyYAML reads as floats, and the exported file is a gpt-neox-style flow mapping', () => {
    const text = exportNeoxYaml(run);
    for (const key of ['"num-layers": 44', '"gpt_j_residual": true', '"bias-gelu-fusion": true', '"train_micro_batch_size_per_gpu": 4', '"gradient_clipping": 1.0', '"eps": 1.0e-8', '"model-parallel-size": 2']) {
      expect(text).toContain(key);
    }
    expect(text.trimEnd().endsWith('}')).toBe(true);
  });

  it('exports presets too, and a re-import gives the same model, training and parallel settings', () => {
    for (const name of ['neox-20b', 'pythia-160m', 'pythia-12b', 'neox-tiny3']) {
      const preset: NeoxRun = {
        model: getPreset(name), training: defaultTraining(), extra: {},
        parallel: { pipeParallelSize: 2, modelParallelSize: 1, pipePartitionMethod: 'type:transformer|mlp' },
      };
      const back = reimport(exportNeoxYaml(preset), name);
      // Import pins the rows gpt-neox builds; the divisor is whatever reproduces them at the exported TP.
      const rows = paddedVocabSize(preset.model, 1);
      expect(back.model).toEqual({ ...preset.model, paddedVocab: rows, makeVocabSizeDivisibleBy: vocabDivisorFor(preset.model, 1) });
      expect(paddedVocabSize(back.model, 1)).toBe(rows);
      expect(back.training).toEqual(preset.training);
      expect(back.parallel).toEqual(preset.parallel);
    }
  });
});

describe('several files merged in order, like deepy.py', () => {
  const text = readFileSync(fixture('20B.yml'), 'utf8');
  // Split the 20B config into a model file and a training file at the optimizer section.
  const cut = text.indexOf('  # optimizer settings');
  const modelPart = write('model.yml', `${text.slice(0, cut)}}\n`);
  const trainPart = write('train.yml', `{\n${text.slice(cut)}`);

  it('two partial files give the same run as the whole file', () => {
    const merged = importNeoxYaml([modelPart, trainPart], { name: '20B' });
    expect(merged).toEqual(importNeoxYaml([fixture('20B.yml')]));
  });

  it('a key set by two files is an error naming both, as in gpt-neox', () => {
    const extra = write('dup.yml', '{ "num_layers": 12 }');
    expect(() => importNeoxYaml([modelPart, extra])).toThrow(/dup\.yml: num_layers: expected a key not already set by .*model\.yml/);
  });

  it('dash and underscore spellings are the same key', () => {
    const both = write('both.yml', '{ "num-layers": 2, "num_layers": 3 }');
    expect(() => importNeoxYaml([both])).toThrow(InputError);
  });
});

describe('bad config input', () => {
  const base = readFileSync(fixture('20B.yml'), 'utf8');

  it('a wrong type names file, key and expected form', () => {
    const p = write('many.yml', base.replace('"num-layers": 44', '"num-layers": "many"'));
    expect(() => importNeoxYaml([p])).toThrow(/many\.yml: num-layers: expected a positive integer, got "many"/);
  });

  it('hidden size not divisible by the heads', () => {
    const p = write('heads.yml', base.replace('"hidden-size": 6144', '"hidden-size": 6100'));
    expect(() => importNeoxYaml([p])).toThrow(/heads\.yml: hidden-size: expected a multiple of the number of heads \(64\), got 6100/);
  });

  it('a missing required key in a complete (non-partial) config', () => {
    const p = write('missing.yml', base.replace('"seq-length": 2048,', ''));
    expect(() => importNeoxYaml([p])).toThrow(/missing\.yml: seq-length: expected a positive integer \(required, but missing\)/);
  });

  it('malformed YAML reports the line', () => {
    const p = write('broken.yml', base.replace('"num-layers": 44,', '"num-layers": 44'));
    const line = base.split('\n').findIndex((l) => l.includes('"num-layers"')) + 1;
    expect(() => importNeoxYaml([p])).toThrow(new RegExp(`broken\\.yml: line ${line}, column \\d+: expected valid YAML`));
  });

  it('architecture features neox-sim does not model are refused, not mis-modeled', () => {
    const p = write('rms.yml', base.replace('"norm": "layernorm"', '"norm": "rmsnorm"'));
    expect(() => importNeoxYaml([p])).toThrow(/rms\.yml: norm: expected one of "layernorm"/);
    const sparse = write('sparse.yml', base.replace('"norm": "layernorm",', '"norm": "layernorm", "attention-config": [[["global", "local"], 22]],'));
    expect(() => importNeoxYaml([sparse])).toThrow(/sparse\.yml: attention-config: expected "global" or "flash" layers.*, got "local"/);
    const alibi = write('alibi.yml', base.replace('"pos-emb": "rotary",', '"pos-emb": "alibi",'));
    expect(() => importNeoxYaml([alibi])).toThrow(/alibi\.yml: pos-emb: expected one of "rotary", "learned" \(the forms neox-sim models\), got "alibi"/);
  });

  it('learned absolute positions are gpt-neox\'s default pos_emb and turn rotary off', () => {
    const noPos = write('nopos.yml', base.replace('"pos-emb": "rotary",', ''));
    const m = importNeoxYaml([noPos]).model;
    expect(m.positionEmbedding).toBe('learned');
    expect(rotaryDims(m)).toBe(0);
    expect(exportNeoxYaml(importNeoxYaml([noPos]), { tp: 2, pp: 4 })).toContain('"pos-emb": "learned"');
  });
});
