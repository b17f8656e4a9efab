import { readValidation } from './reading.js';
import type { ValidationReport } from './validate.js';

/** The validation as text: the table, per-run assumptions, skipped runs, error statistics and the reading. */
export function formatValidation(report: ValidationReport): string {
  const lines: string[] = [];
  const head = ['run', 'GPUs', 'plan', 'predicted s/iter', 'published s/iter', 'error', 'TFLOP/s predicted', 'reported', 'convention'];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of report.results) {
    if (r.skipped !== undefined) continue;
    const p = r.predicted!;
    const mark = r.assumptions.length ? ` [${notes.length + 1}]` : '';
    if (r.assumptions.length) notes.push(`[${notes.length + 1}] ${r.id}: ${r.assumptions.join('; ')}`);
    rows.push([
      r.id + mark, r.gpus.toLocaleString('en-US'), r.plan!, p.seconds.toFixed(2), r.published.seconds.toFixed(2), signedPct(r.errorPct!),
      p.tflopsPerGpu.toFixed(1), r.published.tflopsPerGpu === null ? '—' : String(r.published.tflopsPerGpu), r.published.convention ?? '',
    ]);
  }
  lines.push(...table(head, rows, [false, true, false, true, true, true, true, true, false]));
  const bases = new Map<string, string[]>();
  for (const r of report.results) if (r.skipped === undefined) bases.set(r.published.basis, [...(bases.get(r.published.basis) ?? []), r.id]);
  if (bases.size) lines.push('', 'Published s/iter:', ...[...bases].map(([basis, ids]) => `  ${basis}: ${ids.join(', ')}`));
  if (notes.length) lines.push('', 'Assumptions:', ...notes.map((n) => `  ${n}`));
  const skipped = report.results.filter((r) => r.skipped !== undefined);
  if (skipped.length) lines.push('', 'Skipped (not representable):', ...skipped.map((r) => `  ${r.id}: ${r.skipped}`));
  const s = report.stats;
  lines.push('');
  if (s) {
    lines.push(
      `Error over ${s.runs} run${s.runs > 1 ? 's' : ''} (predicted vs published s/iter): mean absolute ${s.meanAbsPct.toFixed(1)}%, `
      + `bias ${signedPct(s.biasPct)}, spread ${s.spreadPct.toFixed(1)}%, max ${s.maxAbsPct.toFixed(1)}% (${s.maxId})`,
    );
    const reading = readValidation(report);
    if (reading.length) lines.push('', 'Reading:', ...reading.map((x) => `  - ${x}`));
  } else {
    lines.push('No run could be simulated.');
  }
  return `${lines.join('\n')}\n`;
}

const signedPct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (right[c] ? x.padStart(width[c]!) : x.padEnd(width[c]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
