import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { importNeoxYaml } from '../../src/model/neox-yaml.js';
import { getPreset } from '../../src/model/presets.js';
import { makePlan, planFromNeoxRun, validatePlan, type Plan } from '../../src/workload/plan.js';

const neox20b = getPreset('neox-20b');
const plan20b = (fields: Partial<Plan> = {}) =>
  makePlan(neox20b, { tp: 2, pp: 4, dp: 12, microBatch: 4, gradAccumSteps: 32, zeroStage: 1, recompute: 'full', reduceBucketSize: 1.26e9, allgatherBucketSize: 1.26e9, overlapComm: true, ...fields });
const fixture = fileURLToPath(new URL('../model/fixtures/20B.yml', import.meta.url));

function violation(fields: Partial<Plan>, opts: Parameters<typeof validatePlan>[2] = {}, cfg = neox20b): string {
  try {
    validatePlan(cfg, plan20b(fields), opts);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('expected the plan to be rejected');
}

describe('plan validation: every impossible plan names the violated constraint', () => {
  it('accepts the 20B run on 96 GPUs with global batch 1536', () => {
    expect(validatePlan(neox20b, plan20b(), { gpus: 96, globalBatch: 1536 }).warnings).toEqual([]);
  });

  it('TP must divide the attention heads', () => {
    expect(violation({ tp: 3, dp: 8 })).toMatch(/tp: expected a divisor of num-attention-heads \(64\), got 3/);
  });

  it('TP must divide the 50,432 embedding rows of the released 20B checkpoint', () => {
    // 512 heads of 12 dims: TP 512 splits heads and MLP evenly, but not 50,432 = 2^8 × 197 rows.
    const manyHeads = { ...neox20b, numHeads: 512 };
    expect(violation({ tp: 512, pp: 1, dp: 1 }, {}, manyHeads)).toMatch(/tp: expected a divisor of the 50432 embedding rows, got 512/);
  });

  it('TP × PP × DP must equal the GPUs', () => {
    expect(violation({ dp: 10 }, { gpus: 96 })).toMatch(/tp × pp × dp = the cluster's 96 GPUs \(tp 2 × pp 4 × dp 10 = 80\)/);
  });

  it('the global batch must be micro-batch × GAS × DP', () => {
    expect(violation({ gradAccumSteps: 31 }, { globalBatch: 1536 })).toMatch(/global batch 1536 \(4 × 31 × 12 = 1488\)/);
  });

  it('PP cannot exceed the layers: every stage needs a transformer layer', () => {
    expect(violation({ pp: 48, dp: 1 })).toMatch(/pp: expected at most num-layers \(44\): every stage needs a transformer layer, got 48/);
  });

  it('PP must divide the layers unless the plan opts into an uneven DeepSpeed partition', () => {
    expect(violation({ pp: 8, dp: 6 })).toBe(`plan: pp: expected a divisor of num-layers (44) (equal stages; unevenPipeline accepts gpt-neox's uneven "type:transformer|mlp" partition), got 8`);
    expect(violation({ pp: 3, dp: 16 }, { fieldName: (f) => (f === 'unevenPipeline' ? '--uneven-pp' : `--${f}`) })).toMatch(/--pp: expected a divisor of num-layers \(44\) \(equal stages; --uneven-pp accepts/);
    // 44 layers on 8 stages: DeepSpeed partition_balanced gives 6/6/6/6/6/6/6/2.
    expect(() => validatePlan(neox20b, plan20b({ pp: 8, dp: 6, unevenPipeline: true }), { gpus: 96 })).not.toThrow();
    expect(violation({ unevenPipeline: 'yes' as unknown as boolean })).toMatch(/unevenPipeline: expected true or false \(or left out\), got "yes"/);
  });

  it('interleaving needs layers divisible by pp × v, m divisible by pp, v ≥ 2 and async p2p', () => {
    expect(violation({ schedule: 'interleaved', virtualStages: 3, p2p: 'async' })).toMatch(/num-layers \(44\) divisible by pp × virtualStages.*pp × v = 12/);
    expect(violation({ schedule: 'interleaved', virtualStages: 11, gradAccumSteps: 30, p2p: 'async' })).toMatch(/gradAccumSteps: expected a multiple of pp \(4\)/);
    expect(violation({ schedule: 'interleaved', virtualStages: 1, p2p: 'async' })).toMatch(/virtualStages: expected at least 2/);
    expect(violation({ schedule: 'interleaved', virtualStages: 11, p2p: 'sync-broadcast' })).toMatch(/p2p: expected "async" for the interleaved schedule/);
    expect(violation({ virtualStages: 2 })).toMatch(/virtualStages: expected 1 unless the schedule is "interleaved"/);
  });

  it('rejects unknown choices, non-positive sizes and bad rank orders', () => {
    expect(violation({ zeroStage: 4 as Plan['zeroStage'] })).toMatch(/zeroStage: expected one of 0, 1, 2, 3, got 4/);
    expect(violation({ recompute: 'some' as Plan['recompute'] })).toMatch(/recompute: expected one of "none", "selective", "full"/);
    expect(violation({ microBatch: 0 })).toMatch(/microBatch: expected a positive integer, got 0/);
    expect(violation({ rankOrder: ['pipe', 'pipe', 'model'] })).toMatch(/rankOrder: expected a permutation of pipe, data, model/);
    expect(violation({ seqLength: 4096 })).toMatch(/seqLength: expected at most max-position-embeddings \(2048\)/);
    expect(violation({ reduceBucketSize: 5 })).toMatch(/reduceBucketSize: expected a number of elements ≥ the data-parallel degree \(12\)/);
  });

  it('names fields the way the caller spells them', () => {
    expect(violation({ tp: 3, dp: 8 }, { source: 'cli', fieldName: (f) => `--${f}` })).toBe('cli: --tp: expected a divisor of num-attention-heads (64), got 3');
  });

  it('allows ZeRO 2/3 with pipelining but flags that gpt-neox 2022 could not run it', () => {
    const { warnings } = validatePlan(neox20b, plan20b({ zeroStage: 2 }));
    expect(warnings.join(' ')).toMatch(/ZeRO stage 2 with pipeline parallelism: DeeperSpeed 0.3.15's PipelineEngine supports ZeRO < 2 only/);
    expect(validatePlan(neox20b, plan20b({ zeroStage: 3, pp: 1, dp: 48 })).warnings).toEqual([]);
  });
});

describe('plan from a gpt-neox config', () => {
  it('reads the 20B run from configs/20B.yml: TP 2, PP 4, micro-batch 4, GAS 32, ZeRO 1, full recompute, 1.26e9 buckets', () => {
    const run = importNeoxYaml([fixture]);
    const { plan, check } = planFromNeoxRun(run, fixture, { gpus: 96 });
    expect(plan).toMatchObject({
      tp: 2, pp: 4, dp: 12, microBatch: 4, gradAccumSteps: 32, zeroStage: 1, recompute: 'full', precision: 'fp16',
      reduceBucketSize: 1_260_000_000, allgatherBucketSize: 1_260_000_000, overlapComm: true, schedule: '1f1b',
      rankOrder: ['pipe', 'data', 'model'], hiddenDropout: 0, attentionDropout: 0, seqLength: 2048,
    });
    expect(check.warnings).toEqual([]);
  });

  it('overrides apply after the file (the one-replica-per-node view)', () => {
    const { plan } = planFromNeoxRun(importNeoxYaml([fixture]), fixture, { gpus: 96, overrides: { rankOrder: ['data', 'pipe', 'model'] } });
    expect(plan.rankOrder).toEqual(['data', 'pipe', 'model']);
  });

  it('a GPU count the model-parallel size does not divide names both keys', () => {
    expect(() => planFromNeoxRun(importNeoxYaml([fixture]), fixture, { gpus: 100 })).toThrow(
      /20B.yml: model-parallel-size × pipe-parallel-size: expected a divisor of the cluster's 100 GPUs, got "2 × 4 = 8"/,
    );
  });
});
