import { createJsKernels } from '../../src/backends/js/index.js';
import type { DType, Kernels } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { paddedVocabSize, type NeoXConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { interleaved } from '../lib/measure.js';
import type { BenchContext, Suite, Table } from '../lib/suite.js';

const BATCH = 8;

/**
 * Matmul FLOPs of one training step per token, as the trainer computes it: 6·N for the linear layers and
 * the output projection (N = 12·L·h² + h·V, forward plus two backward products), and 12·L·T·h for the
 * attention products (full T×T batched GEMMs). The llm.c convention, with the untied input embedding
 * (a lookup, no FLOPs) left out of N.
 */
function flopsPerToken(cfg: NeoXConfig, seq: number): number {
  const h = cfg.hiddenSize, L = cfg.numLayers;
  return 6 * (12 * L * h * h + h * paddedVocabSize(cfg)) + 12 * L * seq * h;
}

function backendFor(rt: KernelRuntime | null): (dtype: DType) => Kernels {
  return (dtype) => (rt === null || dtype === 'f64' ? createJsKernels(dtype) : new WasmKernels(rt, dtype));
}

/** One fp32 training step of `cfg` (batch 8) on `backend`, as a repeatable call. */
function stepCall(cfg: NeoXConfig, backend: (dtype: DType) => Kernels): () => void {
  const seq = cfg.seqLength;
  const trainer = new Trainer({ model: cfg, precision: 'fp32', backend, microBatchSize: BATCH, seqLength: seq,
    schedule: { lr: 1e-4, minLr: 1e-5, warmupIters: 0, decayIters: 1000, style: 'cosine' } });
  let s = 1;
  const tokens = Int32Array.from({ length: BATCH * (seq + 1) }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % cfg.vocabSize);
  return () => void trainer.step(tokens);
}

export const suite: Suite = {
  name: 'train-step',
  description: `whole fp32 training steps (forward, backward, clipping, AdamW) of the small presets, batch ${BATCH}, in tokens/s: wasm backend (1 and 2 threads) vs the js reference backend`,
  async run(ctx) {
    const presets = ctx.quick ? ['neox-tiny'] : ['neox-tiny', 'neox-tiny3', 'neox-small'];
    const rt1 = new KernelRuntime({ threads: 1 }), rt2 = new KernelRuntime({ threads: 2 });
    const peak2 = 2 * ctx.machine.peak128GflopsPerCore;
    const rows = [];
    try {
      for (const name of presets) {
        const cfg = getPreset(name);
        const tokens = BATCH * cfg.seqLength;
        ctx.log(`train step ${name}`);
        // The js reference takes minutes per neox-small step; it is measured on the two tiny presets.
        const calls = { w1: stepCall(cfg, backendFor(rt1)), w2: stepCall(cfg, backendFor(rt2)),
          ...(name === 'neox-small' ? {} : { js: stepCall(cfg, backendFor(null)) }) } as Record<'w1' | 'w2' | 'js', () => void>;
        const tr = await interleaved(calls, 3 * ctx.time);
        const js = tr.js === undefined ? null : tokens / tr.js.median;
        const [w1, w2] = [tokens / tr.w1.median, tokens / tr.w2.median];
        const best = { w1: tokens / tr.w1.best, w2: tokens / tr.w2.best };
        rows.push({ name, tokens, flopsPerToken: flopsPerToken(cfg, cfg.seqLength), js, wasm1: w1, wasm2: w2, best });
      }
    } finally {
      await Promise.all([rt1.close(), rt2.close()]);
    }
    const table: Table = {
      title: `Training step (fp32, batch ${BATCH}), tokens/s (median)`,
      columns: ['preset', 'tokens/step', 'js reference', 'wasm 1T', 'wasm 2T', 'wasm 1T / js', 'wasm 2T / 1T', 'wasm 2T GFLOP/s', '% of 2-core 128-bit peak'],
      rows: rows.map((r) => {
        const g = (r.wasm2 * r.flopsPerToken) / 1e9;
        return [r.name, r.tokens, r.js, r.wasm1, r.wasm2, r.js === null ? null : r.wasm1 / r.js, r.wasm2 / r.wasm1, g, (100 * g) / peak2];
      }),
      notes: [
        'FLOPs per token = 6·(12·L·h² + h·V) + 12·L·T·h (matmuls only); the step also runs LayerNorm, GELU, softmax, cross entropy, clipping and AdamW.',
        'js reference: not measured on neox-small (minutes per step). numpy has no trainer to compare with.',
        'Columns measured interleaved (7 alternating tinybench rounds, median of round medians).',
      ],
    };
    const best: Table = {
      title: 'Training step, fastest interleaved round (what the machine does when no other process holds a core), tokens/s',
      columns: ['preset', 'wasm 1T', 'wasm 2T', 'wasm 2T / 1T', 'wasm 2T GFLOP/s', '% of 2-core 128-bit peak'],
      rows: rows.map((r) => {
        const g = (r.best.w2 * r.flopsPerToken) / 1e9;
        return [r.name, r.best.w1, r.best.w2, r.best.w2 / r.best.w1, g, (100 * g) / peak2];
      }),
    };
    return { tables: [table, best], data: { rows, batch: BATCH } };
  },
};
