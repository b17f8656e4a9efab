import { Bench } from 'tinybench';

/**
 * Median seconds per call of `fn`, measured with tinybench: a warm-up, then at least `minRuns` calls and
 * at least `timeMs` of measuring. The median resists the other processes sharing the machine.
 */
export async function medianSeconds(fn: () => void, timeMs: number, minRuns = 3): Promise<number> {
  const bench = new Bench({ time: timeMs, iterations: minRuns, warmupTime: Math.min(200, timeMs), warmupIterations: 1 });
  bench.add('x', fn);
  await bench.run();
  const r = bench.tasks[0]!.result as { latency?: { p50?: number } };
  const p50 = r.latency?.p50;
  if (p50 === undefined) throw new Error('tinybench returned no latency');
  return p50 / 1e3;
}

/** GFLOP/s for `flops` per call. */
export const gflops = (flops: number, seconds: number) => flops / seconds / 1e9;
