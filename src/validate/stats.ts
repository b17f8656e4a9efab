/**
 * Error arithmetic of a validation: a prediction's signed error relative to the published value, and the
 * statistics over runs. Negative = the simulator predicts a shorter iteration than was published.
 */
export function errorPct(predicted: number, published: number): number {
  return ((predicted - published) / published) * 100;
}

export interface ErrorStats {
  runs: number;
  /** Mean of |error|, percent. */
  meanAbsPct: number;
  /** Mean of the signed errors, percent: the systematic part. */
  biasPct: number;
  /** Standard deviation of the signed errors around the bias, percent: the run-to-run part. */
  spreadPct: number;
  /** Largest |error|, percent, and its run. */
  maxAbsPct: number;
  maxId: string;
}

export function errorStats(rows: readonly { id: string; errorPct: number }[]): ErrorStats | undefined {
  if (rows.length === 0) return undefined;
  const n = rows.length;
  const bias = rows.reduce((a, r) => a + r.errorPct, 0) / n;
  const spread = Math.sqrt(rows.reduce((a, r) => a + (r.errorPct - bias) ** 2, 0) / n);
  let max = rows[0]!;
  for (const r of rows) if (Math.abs(r.errorPct) > Math.abs(max.errorPct)) max = r;
  return {
    runs: n, meanAbsPct: rows.reduce((a, r) => a + Math.abs(r.errorPct), 0) / n, biasPct: bias, spreadPct: spread,
    maxAbsPct: Math.abs(max.errorPct), maxId: max.id,
  };
}
