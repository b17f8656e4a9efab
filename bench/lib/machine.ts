import { availableParallelism, cpus, loadavg } from 'node:os';
import { KernelRuntime } from '../../src/kernels/runtime.js';

/**
 * The machine a run measured, and its 128-bit SIMD peak. The peak is derived, not assumed:
 * clock = cycles/s of a dependent chain of shift-and-add steps (2 cycles per step on any x86-64 or arm64
 * core: a shift, then an add that needs it); one core issues 2 f32x4 multiply-adds per cycle (two FMA pipes,
 * as on Zen 3 and on Intel cores since Haswell) = 2 × 4 lanes × 2 flops = 16 flop/cycle; peak = 16 × clock.
 * A register-only loop of 12 independent f32x4 FMA chains measures what one core attains, as a cross-check.
 */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  loadAverage: number[];
  clockGHz: number;
  /** 16 flop/cycle × clock, one core. */
  peak128GflopsPerCore: number;
  /** Measured with the register-only FMA loop, one core. */
  fmaLoopGflops: number;
  kernels: string;
}

export const FLOP_PER_CYCLE_128 = 16;

function best(n: number, f: () => number): number {
  let b = 0;
  for (let i = 0; i < n; i++) b = Math.max(b, f());
  return b;
}

export function describeMachine(): Machine {
  const rt = new KernelRuntime({ threads: 1 });
  try {
    rt.run('clockProbe', [100_000, 1]); // tier up
    rt.run('fmaPeakProbe', [100_000, 1]);
    const steps = 20_000_000;
    const clockGHz = best(15, () => {
      const t = process.hrtime.bigint();
      rt.run('clockProbe', [steps / 16, 1]);
      return (2 * steps) / Number(process.hrtime.bigint() - t);
    });
    const iters = 5_000_000;
    const fmaLoopGflops = best(15, () => {
      const t = process.hrtime.bigint();
      rt.run('fmaPeakProbe', [iters, 1]);
      return (iters * 96) / Number(process.hrtime.bigint() - t);
    });
    return {
      cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, v8: process.versions.v8,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100), clockGHz, peak128GflopsPerCore: FLOP_PER_CYCLE_128 * clockGHz,
      fmaLoopGflops, kernels: rt.describe().replace(/, 1 thread$/, ''),
    };
  } finally {
    void rt.close();
  }
}
