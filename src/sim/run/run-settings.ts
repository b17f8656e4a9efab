/**
 * Settings of a whole training run beyond one step, with their defaults and where each default comes from.
 * The NeoX-20B values are configs/20B.yml at the 20B release (EleutherAI/gpt-neox c560814b; neox-20b.md
 * §1.5, §2.1); the storage and failure defaults are stated assumptions or published fleet figures.
 */
export interface RunSettings {
  steps: number;
  evalInterval: number;
  evalIters: number;
  saveInterval: number;
  /** Bytes/s each node writes (and reads back) checkpoints at. */
  ckptWriteBandwidthPerNode: number;
  mtbfHoursPerGpu: number;
  restartSeconds: number;
}

export interface Sourced<T> {
  value: T;
  source: string;
}

/** Defaults, each with its source. */
export const RUN_DEFAULTS: { [K in keyof RunSettings]: Sourced<RunSettings[K]> } = {
  steps: { value: 150_000, source: 'configs/20B.yml train-iters 150000 (gpt-neox c560814b); paper: 150,000 steps' },
  evalInterval: { value: 1000, source: 'configs/20B.yml eval-interval 1000 (gpt-neox c560814b)' },
  evalIters: { value: 10, source: 'configs/20B.yml eval-iters 10 (gpt-neox c560814b)' },
  saveInterval: { value: 500, source: 'configs/20B.yml save-interval 500 (gpt-neox c560814b)' },
  ckptWriteBandwidthPerNode: {
    value: 1e9,
    source: '[assumption] 1 GB/s per node to shared storage: no figure is published for the storage the 20B run wrote to; set --ckpt-write-bw',
  },
  mtbfHoursPerGpu: {
    value: (54 * 24 * 16_384) / 419,
    source: 'Llama 3 paper (arXiv 2407.21783, §3.3.4): 419 unexpected interruptions in 54 days on 16,384 H100 GPUs → 50,677 GPU-hours between failures (H100 fleet, 2024; no A100 figure for the 20B run is published)',
  },
  restartSeconds: {
    value: 30 * 60,
    source: 'PyTorch default collective timeout (torch.distributed default_pg_timeout = 30 min), the time a hang takes to be detected; relaunch time not included [assumption]',
  },
};

export function defaultRunSettings(): RunSettings {
  return Object.fromEntries(Object.entries(RUN_DEFAULTS).map(([k, v]) => [k, v.value])) as unknown as RunSettings;
}

/** The NeoX-20B run's plan (configs/20B.yml at the 20B release, neox-20b.md §2.1). */
export const NEOX_20B_PLAN = {
  tp: 2,
  pp: 4,
  microBatch: 4,
  gradAccumSteps: 32,
  zeroStage: 1,
  recompute: 'full',
  reduceBucketSize: 1_260_000_000,
  allgatherBucketSize: 1_260_000_000,
  overlapComm: true,
} as const;
