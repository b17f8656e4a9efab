import { describe, expect, it } from 'vitest';
import { korthikantiActivationBytes, layerActivationBytes } from '../../src/model/activation-memory.js';
import type { NeoXConfig } from '../../src/model/config.js';
import { megatronFlops, neoxLogger2022FlopsPerToken, sixNFlopsPerToken } from '../../src/model/flops.js';
import { adamStepOp } from '../../src/model/optimizer-ops.js';
import type { Recompute } from '../../src/model/ops.js';
import { getPreset } from '../../src/model/presets.js';

const neox20b = getPreset('neox-20b');
const stepTokens = 1536 * 2048;

describe('FLOP conventions for NeoX-20B (facts: neox-20b.md §1.5)', () => {
  it('gpt-neox 2022 logger: 6·20,556,201,984 + 60·2048·6144·44 = 156,556,099,584 FLOP per token', () => {
    expect(neoxLogger2022FlopsPerToken(neox20b, 2, 4)).toBe(156_556_099_584);
    expect(neoxLogger2022FlopsPerToken(neox20b, 2, 4) * stepTokens).toBeCloseTo(4.9248e17, -14);
  });

  it('6N per step = 3.880e17; Megatron with recompute 5.353e17, without 4.03e17', () => {
    expect(sixNFlopsPerToken(neox20b) * stepTokens / 1e17).toBeCloseTo(3.880, 3);
    expect(megatronFlops(neox20b, { batch: 1536 }, true, 2).total / 1e17).toBeCloseTo(5.353, 3);
    expect(megatronFlops(neox20b, { batch: 1536 }, false, 2).total / 1e17).toBeCloseTo(4.03, 2);
  });
});

const sequentialWithDropout = (cfg: NeoXConfig): [NeoXConfig, { attentionDropout: number; hiddenDropout: number }] =>
  [{ ...cfg, parallelResidual: false }, { attentionDropout: 0.1, hiddenDropout: 0.1 }];

describe('activation memory from the op list', () => {
  const cases: [string, NeoXConfig, number, number, number][] = [
    ['neox-20b', neox20b, 2, 4, 2048],
    ['neox-20b', neox20b, 8, 1, 2048],
    ['pythia-160m', getPreset('pythia-160m'), 3, 2, 2048],
    ['pythia-1b', getPreset('pythia-1b'), 1, 8, 512],
  ];
  for (const [name, cfg, tp, microBatch, seqLength] of cases) {
    for (const recompute of ['none', 'selective', 'full'] as Recompute[]) {
      it(`equals Korthikanti et al. for a sequential layer with dropout: ${name}, TP ${tp}, b ${microBatch}, s ${seqLength}, ${recompute}`, () => {
        const [seq, dropout] = sequentialWithDropout(cfg);
        const opts = { tp, microBatch, seqLength, recompute, ...dropout };
        expect(layerActivationBytes(seq, opts).stored).toBe(korthikantiActivationBytes(seq, opts));
      });
    }
  }

  it('gives the 20B facts-file figures: 96 MiB checkpointed input, 3.79 GB Korthikanti working set at TP 2, b 4', () => {
    const opts = { tp: 2, microBatch: 4, recompute: 'full' as const };
    expect(layerActivationBytes(neox20b, opts).stored).toBe(100_663_296);
    expect(korthikantiActivationBytes(neox20b, { ...opts, recompute: 'none' }) / 1e9).toBeCloseTo(3.79, 2);
  });

  it('is smaller for the real 20B layer: no dropout masks, one softmax tensor, one shared LayerNorm input', () => {
    // Kept per layer: x, ln1(x), ln2(x) (6·sbh, replicated), q, k, v, context, GELU in/out (24·sbh/t), softmax 2·a·s²·b/t.
    const s = 2048;
    const b = 4;
    const t = 2;
    const sbh = s * b * 6144;
    const expected = 6 * sbh + (24 * sbh) / t + (2 * 64 * s * s * b) / t;
    const got = layerActivationBytes(neox20b, { tp: t, microBatch: b, recompute: 'none' });
    expect(got.stored).toBe(expected);
    // Full recompute re-creates all of it except the kept input.
    expect(layerActivationBytes(neox20b, { tp: t, microBatch: b, recompute: 'full' }).recomputeWorkingSet).toBe(expected - 2 * sbh);
  });
});

describe('optimizer step op', () => {
  it('moves 30 bytes per parameter on the fp32 master partition', () => {
    const op = adamStepOp(1000);
    expect(op).toMatchObject({ kind: 'optimizer', phase: 'step', bytesRead: 16_000, bytesWritten: 14_000, dtype: 'fp32' });
  });
});
