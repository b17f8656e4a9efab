import { createJsKernels } from '../../src/backends/js/index.js';
import type { AttentionVariant, DType, Kernels } from '../../src/backends/kernels.js';
import { WasmKernels } from '../../src/backends/wasm/kernels.js';
import { KernelRuntime } from '../../src/kernels/runtime.js';
import { paddedVocabSize, type NeoXConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { interleaved } from '../lib/measure.js';
import type { BenchContext, Suite, Table } from '../lib/suite.js';

/** Sequences per step: 8, and 4 for neox-medium (1,024 tokens per step, as neox-small), so a step stays a few seconds. */
const batchOf = (name: string) => (name === 'neox-medium' ? 4 : 8);

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

/** One fp32 training step of `cfg` on `backend`, as a repeatable call. */
function stepCall(cfg: NeoXConfig, batch: number, backend: (dtype: DType) => Kernels, attention: AttentionVariant): () => void {
  const seq = cfg.seqLength;
  const trainer = new Trainer({ model: cfg, precision: 'fp32', backend, microBatchSize: batch, seqLength: seq, attention,
    schedule: { lr: 1e-4, minLr: 1e-5, warmupIters: 0, decayIters: 1000, style: 'cosine' } });
  let s = 1;
  const tokens = Int32Array.from({ length: batch * (seq + 1) }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % cfg.vocabSize);
  return () => void trainer.step(tokens);
}

type Key = 'm1' | 'f1' | 'm2' | 'f2' | 'js';

async function measure(name: string, ctx: BenchContext, rt1: KernelRuntime, rt2: KernelRuntime) {
  const cfg = getPreset(name), batch = batchOf(name);
  const calls: Partial<Record<Key, () => void>> = {
    m1: stepCall(cfg, batch, backendFor(rt1), 'materialized'), f1: stepCall(cfg, batch, backendFor(rt1), 'flash'),
    m2: stepCall(cfg, batch, backendFor(rt2), 'materialized'), f2: stepCall(cfg, batch, backendFor(rt2), 'flash'),
  };
  // The js reference takes minutes per step of the larger presets: measured on the two tiny ones.
  if (name.startsWith('neox-tiny')) calls.js = stepCall(cfg, batch, backendFor(null), 'materialized');
  const big = !name.startsWith('neox-tiny');
  const tr = await interleaved(calls as Record<Key, () => void>, 3 * ctx.time, big ? 5 : 7, big ? 1 : 2);
  const tokens = batch * cfg.seqLength;
  const rate = (k: Key, which: 'median' | 'best') => (tr[k] ? tokens / tr[k][which] : null);
  const pick = (which: 'median' | 'best') => ({ m1: rate('m1', which)!, f1: rate('f1', which)!, m2: rate('m2', which)!, f2: rate('f2', which)!, js: rate('js', which) });
  return { name, batch, tokens, flopsPerToken: flopsPerToken(cfg, cfg.seqLength), median: pick('median'), best: pick('best') };
}

export const suite: Suite = {
  name: 'train-step',
  description: 'whole fp32 training steps (forward, backward, clipping, AdamW) of the small presets, in tokens/s: wasm backend (1 and 2 threads, materialized and flash attention) vs the js reference backend',
  async run(ctx) {
    const presets = ctx.quick ? ['neox-tiny'] : ['neox-tiny', 'neox-tiny3', 'neox-small', 'neox-medium'];
    const rt1 = new KernelRuntime({ threads: 1 }), rt2 = new KernelRuntime({ threads: 2 });
    const peak2 = 2 * ctx.machine.peak128GflopsPerCore;
    const rows: Awaited<ReturnType<typeof measure>>[] = [];
    try {
      for (const name of presets) {
        ctx.log(`train step ${name}`);
        rows.push(await measure(name, ctx, rt1, rt2));
      }
    } finally {
      await Promise.all([rt1.close(), rt2.close()]);
    }
    const table = (which: 'median' | 'best'): Table => ({
      title: `Training step (fp32), tokens/s (${which === 'median' ? 'median of the interleaved rounds' : 'fastest round: what the machine does when no other process holds a core'})`,
      columns: ['preset', 'batch × seq', 'js reference', 'wasm 1T', 'wasm 1T flash', 'wasm 2T', 'wasm 2T flash', 'wasm 1T / js', 'wasm 2T / 1T', 'wasm 2T GFLOP/s', '% of 2-core 128-bit peak'],
      rows: rows.map((r) => {
        const x = r[which];
        const g = (x.m2 * r.flopsPerToken) / 1e9;
        return [r.name, `${r.batch} × ${r.tokens / r.batch}`, x.js, x.m1, x.f1, x.m2, x.f2, x.js === null ? null : x.m1 / x.js, x.m2 / x.m1, g, (100 * g) / peak2];
      }),
      notes: which === 'best' ? [] : [
        'FLOPs per token = 6·(12·L·h² + h·V) + 12·L·T·h (matmuls only); the step also runs LayerNorm, GELU, softmax, cross entropy, clipping and AdamW.',
        'Columns measured interleaved (7 alternating tinybench rounds; 5 rounds of one step each for neox-small and neox-medium). js reference: the tiny presets only (minutes per step beyond).',
        'wasm columns without "flash" run the materialized attention kernel (the default).',
      ],
    });
    return { tables: [table('median'), table('best')], data: { rows } };
  },
};
