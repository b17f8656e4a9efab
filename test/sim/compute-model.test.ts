import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import type { GpuSpec } from '../../src/hardware/specs.js';
import { ComputeModel } from '../../src/sim/compute/compute-model.js';
import { chooseTile, gemmTiming } from '../../src/sim/compute/gemm.js';
import { layerOps } from '../../src/model/layer-ops.js';
import { getPreset } from '../../src/model/presets.js';
import { isCompute } from '../../src/model/ops.js';

/** A made-up GPU with round numbers, so every expected time below is plain arithmetic. */
function toyGpu(over: Partial<GpuSpec['calibration']> = {}): GpuSpec {
  return {
    id: 'toy', name: 'toy', tensorFlops: { fp16: 100e12, bf16: 100e12 }, vectorFlops: { fp32: 1e12, fp64: 1e12 },
    hbmBytes: 1e10, hbmUsableBytes: 1e10, hbmBandwidth: 1e12, smCount: 10, l2Bytes: 1e6, boostClockHz: 1e9,
    nvlinkGeneration: 3, nvlinkLinks: 1, nvlinkBandwidth: 1e11, pcieGeneration: 4, pcieBandwidth: 3e10,
    calibration: {
      gemmMaxAchievableFlops: 80e12, gemmEfficiency: 0.8, gemmTiles: [{ m: 128, n: 128 }, { m: 64, n: 64 }],
      hbmEfficiency: 0.5, nvlinkPayloadBandwidth: 1e11, ...over,
    },
    runtime: { cudaContextBytes: 0, cublasWorkspaceBytes: 0, cublasHandles: 1 },
    sources: {},
  };
}

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.abs(b));

describe('GEMM: roofline with tile and wave quantization', () => {
  const gpu = toyGpu();
  const k = 1 << 16; // deep enough to be compute-bound

  it('a tile grid of exactly one wave runs at the calibrated efficiency', () => {
    // 2 × 5 tiles of 128×128 = 10 tiles = one wave on 10 SMs.
    const t = gemmTiming(gpu, { m: 256, n: 640, k, batch: 1, bytes: 0, peak: 100e12 });
    expect(t.tile).toEqual({ m: 128, n: 128 });
    expect(t.tiles).toBe(10);
    expect(t.waves).toBe(1);
    close(t.time, (2 * 256 * 640 * k) / (100e12 * 0.8));
    expect(t.bound).toBe('compute');
  });

  it('one tile more than a multiple of the SM count costs a whole extra wave', () => {
    // 11 tiles on 10 SMs: 2 waves, the time of 20 tiles.
    const t = gemmTiming(gpu, { m: 128, n: 128 * 11, k, batch: 1, bytes: 0, peak: 100e12 });
    expect(t.tiles).toBe(11);
    expect(t.waves).toBe(2);
    close(t.quantizedFlops, 2 * 10 * 2 * 128 * 128 * k);
    close(t.time, (2 * 10 * 2 * 128 * 128 * k) / (100e12 * 0.8));
    close(t.flops, 2 * 128 * 128 * 11 * k);
  });

  it('a partial tile costs a whole tile (tile quantization)', () => {
    // m = 129 needs 2 tile rows: 2 × 5 = 10 tiles, one wave, as long as m = 256.
    const a = gemmTiming(gpu, { m: 129, n: 640, k, batch: 1, bytes: 0, peak: 100e12 });
    const b = gemmTiming(gpu, { m: 256, n: 640, k, batch: 1, bytes: 0, peak: 100e12 });
    expect(a.time).toBe(b.time);
  });

  it('batched products share the waves', () => {
    // 3 batches × 4 tiles = 12 tiles → 2 waves.
    const t = gemmTiming(gpu, { m: 256, n: 256, k, batch: 3, bytes: 0, peak: 100e12 });
    expect(t.tiles).toBe(12);
    expect(t.waves).toBe(2);
  });

  it('the largest tile that fills a wave is used; smaller tiles only when nothing fills one', () => {
    const tiles = gpu.calibration.gemmTiles;
    expect(chooseTile(tiles, 10, 128 * 10, 128, 1)).toEqual({ m: 128, n: 128 }); // 10 big tiles fill the wave
    expect(chooseTile(tiles, 10, 256, 256, 1)).toEqual({ m: 64, n: 64 }); // 4 big tiles do not; 16 small ones do
    expect(chooseTile(tiles, 10, 64, 64, 1)).toEqual({ m: 64, n: 64 }); // nothing fills: the most blocks
  });

  it('a GEMM with little math per byte is bound by HBM: bytes / (bandwidth × efficiency)', () => {
    const bytes = 4e9;
    const t = gemmTiming(gpu, { m: 128, n: 128 * 10, k: 64, batch: 1, bytes, peak: 100e12 });
    expect(t.bound).toBe('memory');
    close(t.time, bytes / (1e12 * 0.5));
  });
});

describe('ComputeModel', () => {
  it('memory-bound kernels take bytes / (HBM bandwidth × efficiency), exactly', () => {
    const cm = new ComputeModel(toyGpu());
    for (const kind of ['layernorm', 'softmax', 'elementwise', 'optimizer', 'cross-entropy'] as const) {
      const t = cm.timing({ kind, m: 1000, n: 1, k: 1, batch: 1, bytesRead: 3e8, bytesWritten: 1e8, dtype: 'fp16' });
      close(t.time, 4e8 / (1e12 * 0.5));
      expect(t.bound).toBe('memory');
    }
  });

  it('caches by shape and returns the same timing object', () => {
    const cm = new ComputeModel(toyGpu());
    const op = { kind: 'gemm' as const, m: 256, n: 640, k: 4096, batch: 1, bytesRead: 1, bytesWritten: 1, dtype: 'fp16' as const };
    expect(cm.timing({ ...op })).toBe(cm.timing({ ...op }));
  });

  it('refuses a matmul dtype the GPU has no tensor rate for', () => {
    const cm = new ComputeModel(toyGpu());
    expect(() => cm.time({ kind: 'gemm', m: 1, n: 1, k: 1, batch: 1, bytesRead: 0, bytesWritten: 0, dtype: 'int64' })).toThrow(/no tensor-core rate/);
  });

  describe('NeoX-20B layer on an A100-SXM4-40GB (TP 2, micro-batch 4)', () => {
    const gpu = loadCluster('supermicro12').gpu;
    const cm = new ComputeModel(gpu);
    const ops = layerOps(getPreset('neox-20b'), { tp: 2, microBatch: 4, recompute: 'full' }).filter(isCompute);
    const byName = (n: string) => ops.find((o) => o.name === n && o.phase === 'forward')!;

    it('QKV GEMM 8192×9216×6144: 32 × 72 = 2304 tiles of 256×128 → 22 waves on 108 SMs', () => {
      const t = cm.timing(byName('attention.query_key_value')).gemm!;
      expect(t.tile).toEqual({ m: 256, n: 128 });
      expect(t.tiles).toBe(2304);
      expect(t.waves).toBe(22);
      close(t.time, (22 * 108 * 2 * 256 * 128 * 6144) / 267.9e12);
      expect(t.bound).toBe('compute');
    });

    it('the attention score BMM (K = head_dim = 96) is bound by HBM traffic, below GEMM efficiency', () => {
      const op = byName('attention.scores');
      const t = cm.timing(op);
      expect(t.bound).toBe('memory');
      close(t.time, (op.bytesRead + op.bytesWritten) / (1555e9 * 0.88));
      const dense = cm.timing(byName('mlp.dense_h_to_4h'));
      const rate = (o: typeof op, time: number) => o.flops / time;
      expect(rate(op, t.time)).toBeLessThan(0.5 * rate(byName('mlp.dense_h_to_4h'), dense.time));
    });
  });
});
