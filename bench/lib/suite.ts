/**
 * What a benchmark suite is. A suite lives in bench/suites/<name>.ts and exports `suite`; the runner
 * (bench/run.ts) discovers it, runs it (`npm run bench -- <name>` runs only it), prints its tables and
 * writes everything to bench/results/latest.json. Ratios are always against baselines measured in the
 * same run, never against remembered numbers.
 */
import type { Machine } from './machine.js';

export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  notes?: string[];
}

export interface BenchContext {
  /** Target measuring time per measurement, in ms (tinybench `time`). */
  time: number;
  /** Fewer sizes, for a smoke run. */
  quick: boolean;
  machine: Machine;
  log(message: string): void;
}

export interface SuiteResult {
  tables: Table[];
  /** Machine-readable measurements for the JSON record. */
  data: Record<string, unknown>;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<SuiteResult>;
}

/** The simple suite form: one row per measured rate, each with its same-run baseline. */
export interface RateRow {
  name: string;
  rate: number;
  baseline: string;
  baselineRate: number;
  /** rate / baselineRate. */
  ratio: number;
  note?: string;
}

/** A Suite around a default-exported `async () => RateRow[]`. */
export function fromRows(name: string, rows: () => Promise<RateRow[]>): Suite {
  return {
    name,
    description: `${name} (rates against same-run baselines)`,
    async run() {
      const r = await rows();
      return {
        tables: [{
          title: name,
          columns: ['measurement', 'rate', 'baseline', 'baseline rate', 'ratio'],
          rows: r.map((x) => [x.name, x.rate, x.baseline, x.baselineRate, x.ratio]),
          notes: r.filter((x) => x.note).map((x) => `${x.name}: ${x.note}`),
        }],
        data: { rows: r },
      };
    },
  };
}
