import type { GemmTile, GpuSpec } from '../../hardware/specs.js';

/** A matmul as the compute model sees it: C[m×n] = A[m×k]·B[k×n], `batch` independent products. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  /** Compulsory HBM traffic: each operand read once, the result written once. */
  bytes: number;
  /** Tensor-core peak for the operand dtype, FLOP/s. */
  peak: number;
}

export interface GemmTiming {
  /** Seconds: the slower of the compute and memory roofs. */
  time: number;
  tile: GemmTile;
  /** Output tiles (thread blocks) over all batches. */
  tiles: number;
  /** ceil(tiles / SMs): every wave costs as much as a full one. */
  waves: number;
  /** The math the tensor cores actually do: waves × SMs × one tile's FLOPs (padding and idle SMs included). */
  quantizedFlops: number;
  /** Useful FLOPs, 2·m·n·k·batch. */
  flops: number;
  computeTime: number;
  memoryTime: number;
  bound: 'compute' | 'memory';
}

/**
 * Which output tile cuBLAS runs a GEMM with. The profile lists tiles most efficient first (NVIDIA's Matrix
 * Multiplication Background guide: 256×128 and 128×256 beat smaller tiles because each loaded operand
 * element feeds more math). We take the first tile whose grid fills at least one wave of the GPU's SMs;
 * a GEMM too small to fill a wave with any tile runs with the tile that gives it the most thread blocks
 * (the last such tile in the list on ties), because then the time is one tile's work and a smaller tile
 * finishes sooner.
 */
export function chooseTile(tiles: readonly GemmTile[], sms: number, m: number, n: number, batch: number): GemmTile {
  if (tiles.length === 0) throw new RangeError('the GPU profile lists no GEMM tiles');
  let most = tiles[0]!;
  let mostCount = -1;
  for (const t of tiles) {
    const count = tileCount(t, m, n, batch);
    if (count >= sms) return t;
    if (count >= mostCount) {
      most = t;
      mostCount = count;
    }
  }
  return most;
}

export function tileCount(t: GemmTile, m: number, n: number, batch: number): number {
  return Math.ceil(m / t.m) * Math.ceil(n / t.n) * batch;
}

/**
 * Roofline time of a matmul with tile and wave quantization: compute = quantized FLOPs / (peak × calibrated
 * GEMM efficiency), memory = compulsory bytes / (HBM bandwidth × streaming efficiency); the larger wins.
 * The calibrated efficiency comes from the best measured GEMM (a shape with whole waves), so the waste
 * of partial tiles and partial waves is added here, on top of it.
 */
export function gemmTiming(gpu: GpuSpec, s: MatmulShape): GemmTiming {
  const { smCount: sms, calibration: cal } = gpu;
  const tile = chooseTile(cal.gemmTiles, sms, s.m, s.n, s.batch);
  const tiles = tileCount(tile, s.m, s.n, s.batch);
  const waves = Math.ceil(tiles / sms);
  const quantizedFlops = waves * sms * 2 * tile.m * tile.n * s.k;
  const computeTime = quantizedFlops / (s.peak * cal.gemmEfficiency);
  const memoryTime = s.bytes / (gpu.hbmBandwidth * cal.hbmEfficiency);
  const bound = computeTime >= memoryTime ? 'compute' : 'memory';
  return {
    time: Math.max(computeTime, memoryTime), tile, tiles, waves, quantizedFlops,
    flops: 2 * s.m * s.n * s.k * s.batch, computeTime, memoryTime, bound,
  };
}
