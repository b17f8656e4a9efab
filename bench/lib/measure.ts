import { Bench } from 'tinybench';

/**
 * Median seconds per call of `fn`, measured with tinybench: a warm-up, then at least `minRuns` calls and
 * at least `timeMs` of measuring. The median resists the other processes sharing the machine.
 */
export async function medianSeconds(fn: () => void, timeMs: number, minRuns = 3): Promise<number> {
  return (await interleaved({ x: fn }, timeMs, 1, minRuns)).x.median;
}

/** One function's seconds per call over the interleaved rounds. */
export interface RoundTimes {
  /** The median over rounds of each round's median. */
  median: number;
  /** The fastest round's median: what the machine does when nothing else runs. */
  best: number;
  /** Each round's median, in round order (for ratios taken within a round). */
  rounds: number[];
}

/**
 * Seconds per call of each function, measured in `rounds` tinybench rounds that take turns (each function
 * gets timeMs/rounds per round, at least `minRuns` calls): when another process takes a core for a while,
 * every compared variant sees it.
 */
export async function interleaved<K extends string>(fns: Record<K, () => void>, timeMs: number, rounds = 7,
  minRuns = 2): Promise<Record<K, RoundTimes>> {
  const names = Object.keys(fns) as K[];
  const perRound = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (const n of names) fns[n](); // warm-up (and WebAssembly tier-up) before the first round
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: timeMs / rounds, iterations: minRuns, warmupTime: 0, warmupIterations: 0 });
    for (const n of names) bench.add(n, fns[n]);
    await bench.run();
    for (const t of bench.tasks) {
      const p50 = (t.result as { latency?: { p50?: number } }).latency?.p50;
      if (p50 === undefined) throw new Error(`tinybench returned no latency for ${t.name}`);
      perRound[t.name as K].push(p50 / 1e3);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { median: median(perRound[n]), best: Math.min(...perRound[n]), rounds: perRound[n] }])) as Record<K, RoundTimes>;
}

/**
 * The median over rounds of a/b, each taken within one round (time of b over time of a, for rates): on a
 * shared machine a round's two measurements see about the same load, so their ratio is steadier than a
 * ratio of medians.
 */
export function medianRatio(a: RoundTimes, b: RoundTimes): number {
  return median(a.rounds.map((t, i) => b.rounds[i]! / t));
}

/** The medians of `interleaved`. */
export async function interleavedSeconds<K extends string>(fns: Record<K, () => void>, timeMs: number, rounds = 7): Promise<Record<K, number>> {
  const r = await interleaved(fns, timeMs, rounds);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (v as { median: number }).median])) as Record<K, number>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** GFLOP/s for `flops` per call. */
export const gflops = (flops: number, seconds: number) => flops / seconds / 1e9;
