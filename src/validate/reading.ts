import { errorStats } from './stats.js';
import type { RunResult, ValidationReport } from './validate.js';

/**
 * A short reading of a validation, in words and from its numbers only: which way the predictions lean and
 * how consistently, whether the error follows the simulated communication or not, and what the simulator
 * leaves out that every run pays. Nothing here adjusts anything.
 */
export function readValidation(report: ValidationReport): string[] {
  const ok = report.results.filter((r): r is RunResult & Required<Pick<RunResult, 'predicted' | 'errorPct'>> => r.errorPct !== undefined && r.predicted !== undefined);
  const s = report.stats;
  if (!s || ok.length === 0) return [];
  const out: string[] = [];
  const shorter = ok.filter((r) => r.errorPct < 0).length;
  const pct = (x: number) => `${x.toFixed(1)}%`;
  const lean = s.biasPct < 0 ? 'optimistic (iterations too short)' : 'pessimistic (iterations too long)';
  const scatter = ok.length < 3 ? '' : `, and the runs scatter by ${pct(s.spreadPct)} (standard deviation) around that bias`
    + `${Math.abs(s.biasPct) > 2 * s.spreadPct ? ' — the error is mostly systematic, not run-to-run' : ''}`;
  out.push(`${shorter} of ${ok.length} simulated iterations are shorter than published, ${ok.length - shorter} longer: the simulator is ${lean} by ${pct(Math.abs(s.biasPct))} on average${scatter}.`);
  const frameworks = Object.entries(report.byFramework);
  if (frameworks.length > 1) {
    out.push(`By framework: ${frameworks.map(([fw, f]) => `${fw} ${signed(f.biasPct)} (${f.runs} run${f.runs > 1 ? 's' : ''}${f.runs > 1 ? `, spread ${pct(f.spreadPct)}` : ''})`).join('; ')}.`);
  }

  // Hardware efficiency: matmul FLOPs actually run per GPU-second, simulated vs implied by the published time.
  const eff = ok.map((r) => {
    const p = r.predicted;
    const simulated = p.tflops.simulatedMatmul / p.gpu.peakTflops;
    return { simulated, published: (simulated * p.seconds) / r.published.seconds, gemm: p.gpu.gemmEfficiency };
  });
  const range = (xs: number[]) => {
    const [lo, hi] = [pct(100 * Math.min(...xs)), pct(100 * Math.max(...xs))];
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const gemm = [...new Set(eff.map((e) => pct(100 * e.gemm)))].join(' / ');
  out.push(
    `Simulated GPUs run the model's matmuls at ${range(eff.map((e) => e.simulated))} of their dense 16-bit peak over the whole step `
    + `(single GEMMs at most at the profile's calibrated ${gemm}); the published times imply ${range(eff.map((e) => e.published))}.`,
  );

  // Runs timed per iteration (not a whole run's wall clock) are comparable with each other.
  const timed = ok.filter((x) => !isWallClock(x));
  if (timed.length >= 4) {
    const idle = timed.map((r) => 1 - r.predicted.shares.compute);
    // Correlation of the error in the bias's direction with the simulated idle share: < 0 = the bias shrinks where
    // communication and bubbles grow, so the missing time is in compute; > 0 = it grows with them.
    const r = Math.sign(s.biasPct) * pearson(timed.map((x) => x.errorPct), idle);
    const meanIdle = idle.reduce((a, b) => a + b, 0) / idle.length;
    const where = r <= -0.5 ? 'shrinks as that share grows: the missing time is in how fast each GPU computes, not in the network or the schedule (unless the simulated communication is too slow and offsets part of it)'
      : r >= 0.5 ? 'grows with that share: the missing time is in communication or pipeline scheduling'
        : 'does not follow that share clearly';
    out.push(
      `Over the ${timed.length} runs timed per iteration, the simulated step spends ${pct(100 * Math.min(...idle))}–${pct(100 * Math.max(...idle))} (mean ${pct(100 * meanIdle)}) `
      + `on exposed communication and pipeline bubbles, and the error ${where} (correlation ${r.toFixed(2).replace('-', '−')}).`,
    );
    const computeOnly = timed.filter((x, i) => idle[i]! < 0.05);
    if (computeOnly.length) {
      const mean = computeOnly.reduce((a, x) => a + x.errorPct, 0) / computeOnly.length;
      out.push(`Where the simulated step is almost all compute (under 5% idle: ${computeOnly.map((x) => x.id).join(', ')}), the error is ${signed(mean)}: that part of the gap is the compute model's own.`);
    }
  }
  if (ok.length >= 3) {
    // Leave-one-out: a run stands out if it sits more than 2 standard deviations (at least 1 point) from the others' bias.
    const outliers = ok.filter((x) => {
      const rest = errorStats(ok.filter((y) => y !== x).map((y) => ({ id: y.id, errorPct: y.errorPct })))!;
      return Math.abs(x.errorPct - rest.biasPct) > 2 * Math.max(rest.spreadPct, 1);
    });
    for (const o of outliers) {
      const why = isWallClock(o) ? ': its published time is the whole run\'s wall clock per step, which also pays evaluation, checkpoints, failures and restarts' : '';
      out.push(`${o.id} stands out at ${signed(o.errorPct)}${why}.`);
    }
  }
  out.push(
    'Not modelled, and paid by every real run: gaps between kernel launches and host-side Python work, data loading, the cuBLAS of the run\'s '
    + 'own CUDA version (the GEMM efficiency comes from a newer measurement), and the step\'s logging. No constant was changed to close the gap.',
  );
  return out;
}

const isWallClock = (r: RunResult) => /wall clock/.test(r.published.basis);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}
