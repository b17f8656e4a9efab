import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { ALL_RANK_ORDERS, enumeratePlans, NEOX_RANK_ORDERS, planKey, type SweepChoices } from '../../src/plan/enumerate.js';

const tiny = getPreset('neox-tiny'); // 2 layers, 4 heads, hidden 64
const choices = (over: Partial<SweepChoices> = {}): SweepChoices => ({ rankOrders: NEOX_RANK_ORDERS, tpAcrossNodes: false, unevenPipelines: false, engine: 'any', ...over });
const space = (over: Partial<SweepChoices> = {}, gpus = 8, globalBatch = 16) => enumeratePlans({ cfg: tiny, gpus, gpusPerNode: 8, globalBatch, base: {}, choices: choices(over) });
const dropped = (e: ReturnType<typeof space>, level: number) => Object.fromEntries(e.levels[level]!.dropped.map((d) => [d.rule.split(' (')[0], d.count]));

describe('plan enumeration (neox-tiny on one 8-GPU node, global batch 16), counted by hand', () => {
  const e = space();

  it('TP: divisors of 8 that divide the 4 heads', () => {
    expect(e.levels[0]).toMatchObject({ tried: 4, kept: 3 });
    expect(dropped(e, 0)).toEqual({ 'TP must divide the attention heads, the MLP width and the vocabulary rows': 1 });
  });

  it('(TP, PP): PP divides the GPUs left and the 2 layers', () => {
    // TP 1: PP 1, 2, 4, 8; TP 2: PP 1, 2, 4; TP 4: PP 1, 2. PP 4 and 8 exceed the layers.
    expect(e.levels[1]).toMatchObject({ tried: 9, kept: 6 });
    expect(dropped(e, 1)).toEqual({ 'PP must be at most the 2 layers': 3 });
  });

  it('plans: micro-batches × schedules × recompute × ZeRO × rank orders, and each rule\'s drops', () => {
    // (TP, PP) → DP → micro-batches dividing 16 / DP: (1,1) 8 → 2; (1,2) 4 → 3; (2,1) 4 → 3; (2,2) 2 → 4; (4,1) 2 → 4; (4,2) 1 → 5.
    // 21 (TP, PP, mbs) × 3 schedules (1F1B, GPipe, interleaved v=2) × 3 recompute × 4 ZeRO × 2 rank orders = 1512.
    expect(e.levels[2]!.tried).toBe(1512);
    // PP 1 (9 combos): GPipe and interleaved drop (216 each), the second rank order is the same placement (108).
    // PP 2 (12 combos): interleaving needs 2 layers divisible by 2·2 (288); (TP 4, PP 2) has DP 1, so its
    // two rank orders coincide (5 mbs × 2 schedules × 12 = 120).
    expect(dropped(e, 2)).toEqual({
      'GPipe on one stage is 1F1B on one stage': 216,
      'the interleaved schedule needs PP ≥ 2': 216,
      'same rank placement as another rank order': 108 + 120,
      'interleaving needs the 2 layers divisible by PP × chunks per stage': 288,
    });
    // Kept: PP 1: 9 × 12 = 108; PP 2: (1,2) 3×2×12×2 = 144, (2,2) 4×2×12×2 = 192, (4,2) 5×2×12 = 120.
    expect(e.plans.length).toBe(108 + 144 + 192 + 120);
    expect(e.levels[2]!.kept).toBe(e.plans.length);
    expect(new Set(e.plans.map(planKey)).size).toBe(e.plans.length);
    for (const p of e.plans) expect(p.microBatch * p.gradAccumSteps * p.dp).toBe(16);
  });

  it('gpt-neox 2022: ZeRO ≥ 2 with PP > 1, GPipe and selective recompute are marked, or dropped with --engine neox-2022', () => {
    const neox = space({ engine: 'neox-2022' });
    const limited = e.plans.filter((p) => (p.zeroStage >= 2 && p.pp > 1) || (p.schedule !== '1f1b' && p.pp > 1) || p.recompute === 'selective').length;
    expect(e.notNeox2022).toBe(limited);
    expect(neox.plans.length).toBe(e.plans.length - limited);
    expect(neox.plans.every((p) => p.recompute !== 'selective' && p.schedule === '1f1b' && (p.pp === 1 || p.zeroStage < 2))).toBe(true);
  });

  it('restrictions, all six rank orders, and TP across nodes', () => {
    expect(space({ tp: [2], pp: [2], zeroStage: [1], recompute: ['full'], schedule: ['1f1b'] }).plans.map((p) => `${planKey(p)}`)).toEqual([
      'tp2 pp2 dp2 mbs1 gas8 zero1 full 1f1b pipe,data,model', 'tp2 pp2 dp2 mbs1 gas8 zero1 full 1f1b data,pipe,model',
      'tp2 pp2 dp2 mbs2 gas4 zero1 full 1f1b pipe,data,model', 'tp2 pp2 dp2 mbs2 gas4 zero1 full 1f1b data,pipe,model',
      'tp2 pp2 dp2 mbs4 gas2 zero1 full 1f1b pipe,data,model', 'tp2 pp2 dp2 mbs4 gas2 zero1 full 1f1b data,pipe,model',
      'tp2 pp2 dp2 mbs8 gas1 zero1 full 1f1b pipe,data,model', 'tp2 pp2 dp2 mbs8 gas1 zero1 full 1f1b data,pipe,model',
    ]);
    // TP 2, PP 2, DP 2: all three axes have size 2, so all six orders are distinct placements.
    expect(space({ tp: [2], pp: [2], microBatch: [1], zeroStage: [1], recompute: ['full'], schedule: ['1f1b'], rankOrders: ALL_RANK_ORDERS }).plans).toHaveLength(6);
    // 16 GPUs on 8-GPU nodes: TP 16 crosses nodes (and 16 does not divide 4 heads either way).
    const wide = space({ tp: [16] }, 16);
    expect(dropped(wide, 0)).toEqual({ 'TP must divide the 8 GPUs of a node': 1 });
    expect(dropped(space({ tp: [16], tpAcrossNodes: true }, 16), 0)).toEqual({ 'TP must divide the attention heads, the MLP width and the vocabulary rows': 1 });
  });

  it('a global batch no data-parallel degree divides leaves no plan, and says so', () => {
    // 16 GPUs: TP ≤ 4 and PP ≤ 2 leave DP ≥ 2, and 7 sequences split over none of them.
    const odd = space({}, 16, 7);
    expect(odd.plans).toHaveLength(0);
    expect(odd.dataParallelDegrees).toEqual([2, 4, 8, 16]);
    expect(odd.levels[1]!.dropped).toContainEqual(expect.objectContaining({ rule: 'the global batch (7) must be a multiple of DP', count: 6 }));
  });
});

describe('divisors', () => {
  it('lists every divisor in ascending order, squares once, and walks only to √n (a global batch of 1e11 is instant)', async () => {
    const { divisors } = await import('../../src/plan/enumerate.js');
    const brute = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
    for (const n of [1, 2, 12, 36, 97, 1536, 5040]) expect(divisors(n)).toEqual(brute(n));
    expect(divisors(99_999_999_999)).toEqual([1, 3, 9, 21649, 64947, 194841, 513239, 1539717, 4619151, 11111111111, 33333333333, 99999999999]);
  });
});
