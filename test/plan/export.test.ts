import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { exportPlan, importPlan, presetRun } from '../../src/plan/export.js';
import { NEOX_20B_PLAN } from '../../src/sim/run/run-settings.js';
import { makePlan, type Plan } from '../../src/workload/plan.js';

const cfg = getPreset('neox-20b');
const dir = mkdtempSync(join(tmpdir(), 'neox-plan-export-'));

function roundTrip(plan: Plan, name: string): { text: string; back: ReturnType<typeof importPlan> } {
  const text = exportPlan(presetRun(cfg), plan, 150_000, `test export of ${name}`);
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, text);
  return { text, back: importPlan(file, plan.tp * plan.pp * plan.dp) };
}

describe('plan export as a gpt-neox config, and back', () => {
  const cases: [string, Partial<Plan>][] = [
    ['neox-20b-run', { ...NEOX_20B_PLAN, dp: 12 }],
    ['interleaved-selective', { tp: 2, pp: 2, dp: 24, microBatch: 2, gradAccumSteps: 32, zeroStage: 2, recompute: 'selective', schedule: 'interleaved', virtualStages: 11, p2p: 'async', rankOrder: ['data', 'pipe', 'model'] }],
    ['no-pipeline-zero3', { tp: 4, pp: 1, dp: 24, microBatch: 1, gradAccumSteps: 64, zeroStage: 3, recompute: 'none' }],
    ['gpipe-zero0', { tp: 8, pp: 4, dp: 3, microBatch: 8, gradAccumSteps: 64, zeroStage: 0, recompute: 'full', schedule: 'gpipe', reduceBucketSize: 2e8, allgatherBucketSize: 3e8, overlapComm: true, rankOrder: ['model', 'pipe', 'data'] }],
  ];
  it.each(cases)('%s re-imports to the same plan', (name, fields) => {
    const plan = makePlan(cfg, fields);
    const { text, back } = roundTrip(plan, name);
    expect(back.plan).toEqual(plan);
    expect(back.run.model).toMatchObject({ numLayers: 44, hiddenSize: 6144, numHeads: 64, seqLength: 2048, vocabSize: cfg.vocabSize });
    // gpt-neox's own key names carry what gpt-neox can run.
    expect(text).toContain(`"model-parallel-size": ${plan.tp},`);
    expect(text).toContain(`"pipe-parallel-size": ${plan.pp},`);
    expect(text).toContain(`"train_micro_batch_size_per_gpu": ${plan.microBatch},`);
    expect(text).toContain(`"gradient_accumulation_steps": ${plan.gradAccumSteps},`);
    expect(text).toContain(`"train_batch_size": ${plan.microBatch * plan.gradAccumSteps * plan.dp},`);
    expect(text).toContain(`"checkpoint-activations": ${plan.recompute === 'full'},`);
    expect(text).toMatch(new RegExp(`"stage": ${plan.zeroStage}`));
  });

  it('says when gpt-neox 2022 cannot run the plan', () => {
    expect(roundTrip(makePlan(cfg, cases[1]![1]), 'note').text).toMatch(/^# note: gpt-neox 2022 cannot run ZeRO 2 with pipeline parallelism/m);
    expect(roundTrip(makePlan(cfg, cases[0]![1]), 'no-note').text).not.toMatch(/cannot run/);
  });

  it('a broken neox-sim line is bad input naming the file and the field', () => {
    const { text } = roundTrip(makePlan(cfg, cases[0]![1]), 'broken-src');
    const file = join(dir, 'broken.yml');
    writeFileSync(file, text.replace('schedule=1f1b', 'schedule=zigzag'));
    expect(() => importPlan(file, 96)).toThrow(/broken\.yml: "neox-sim plan:" schedule: expected 1f1b, gpipe or interleaved, got "zigzag"/);
    expect(readFileSync(file, 'utf8')).toContain('zigzag');
  });
});
