/**
 * Thread scaling of SGEMM on a shared machine: alternates single n³ calls on 1 and 2 threads for a while
 * and prints the fastest decile (the rate when no other process held a core) and the median of each.
 * Run: npx tsx bench/tools/thread-scaling.ts [n=1024] [seconds=30]
 */
import { KernelRuntime } from '../../src/kernels/runtime.js';

const n = Number(process.argv[2] ?? 1024);
const seconds = Number(process.argv[3] ?? 30);
const runtimes = [new KernelRuntime({ threads: 1 }), new KernelRuntime({ threads: 2 })];
const args = runtimes.map((rt) => {
  const [a, b, c] = [rt.heap.f32(n * n), rt.heap.f32(n * n), rt.heap.f32(n * n)];
  a.fill(0.5);
  b.fill(0.25);
  return [0, n, n, n, a.byteOffset, n, b.byteOffset, n, c.byteOffset, n, 1, 0, 0, 1, 0, 0, 0];
});
for (let i = 0; i < 3; i++) runtimes.forEach((rt, r) => rt.run('gemm', args[r]!));
const times: number[][] = [[], []];
for (const end = performance.now() + seconds * 1000; performance.now() < end;) {
  runtimes.forEach((rt, r) => {
    const t = performance.now();
    rt.run('gemm', args[r]!);
    times[r]!.push(performance.now() - t);
  });
}
const quantile = (xs: number[], f: number) => [...xs].sort((x, y) => x - y)[Math.floor(f * (xs.length - 1))]!;
const rate = (ms: number) => (2 * n ** 3) / ms / 1e6;
const [one, two] = times as [number[], number[]];
console.log(`SGEMM ${n}³, ${one.length} alternating pairs (${runtimes[0]!.describe().replace(/, 1 thread$/, '')})`);
console.log(`  1 thread : fastest decile ${rate(quantile(one, 0.1)).toFixed(1)} GFLOP/s, median ${rate(quantile(one, 0.5)).toFixed(1)}`);
console.log(`  2 threads: fastest decile ${rate(quantile(two, 0.1)).toFixed(1)} GFLOP/s, median ${rate(quantile(two, 0.5)).toFixed(1)}`);
console.log(`  2T / 1T  : ${(quantile(one, 0.1) / quantile(two, 0.1)).toFixed(2)} (fastest deciles), ${(quantile(one, 0.5) / quantile(two, 0.5)).toFixed(2)} (medians)`);
await Promise.all(runtimes.map((rt) => rt.close()));
