/**
 * The benchmark runner: `npm run bench [-- [suite ...] [--quick] [--time MS] [--out FILE]]`.
 * Suites are the files of bench/suites/ (each exports `suite`); with no names, all run. Tables print as
 * they finish; the whole run (machine, load, every number) is written to bench/results/latest.json, or FILE.
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/common/atomic-write.js';
import { describeMachine } from './lib/machine.js';
import { fromRows, type RateRow, type Suite } from './lib/suite.js';
import { formatTable } from './lib/table.js';

const suitesDir = new URL('./suites/', import.meta.url);

/** A suite file exports `suite` (lib/suite.ts), or, the simple form, a default async function returning RateRows. */
async function loadSuites(): Promise<Suite[]> {
  const files = readdirSync(suitesDir).filter((f) => f.endsWith('.ts')).sort();
  return Promise.all(files.map(async (f) => {
    const mod = await import(new URL(f, suitesDir).href);
    const name = f.slice(0, -3);
    if (mod.suite) return mod.suite as Suite;
    if (typeof mod.default === 'function') return fromRows(name, mod.default as () => Promise<RateRow[]>);
    throw new Error(`bench/suites/${f} exports neither "suite" nor a default function`);
  }));
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { quick: { type: 'boolean' }, time: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const all = await loadSuites();
  if (values.help) {
    process.stdout.write(`Usage: npm run bench -- [suite ...] [--quick] [--time MS] [--out FILE]\n\nSuites:\n${all.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n')}\n`);
    return 0;
  }
  const time = values.time === undefined ? 1000 : Number(values.time);
  if (!(time > 0)) { process.stderr.write(`bench: --time: expected a positive number of ms, got "${values.time}"\n`); return 2; }
  const unknown = positionals.filter((p) => !all.some((s) => s.name === p));
  if (unknown.length) { process.stderr.write(`bench: unknown suite "${unknown[0]}"; expected one of: ${all.map((s) => s.name).join(', ')}\n`); return 2; }
  const chosen = positionals.length ? all.filter((s) => positionals.includes(s.name)) : all;

  const machine = describeMachine();
  const log = (m: string) => process.stderr.write(`  … ${m}\n`);
  process.stdout.write(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; kernels: ${machine.kernels}\n`);
  process.stdout.write(`load average ${machine.loadAverage.join(' ')}; clock ${machine.clockGHz.toFixed(2)} GHz → 128-bit peak ${machine.peak128GflopsPerCore.toFixed(1)} GFLOP/s per core\n`);
  const results: Record<string, unknown> = {};
  for (const s of chosen) {
    process.stdout.write(`\n== ${s.name}: ${s.description}\n`);
    const r = await s.run({ time, quick: !!values.quick, machine, log });
    for (const t of r.tables) process.stdout.write(`${formatTable(t)}\n`);
    results[s.name] = r;
  }
  const record = { date: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), machine, loadAverageAfter: loadavg(), suites: results };
  const out = values.out ?? new URL('./results/latest.json', import.meta.url).pathname;
  writeFileAtomic(out, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`\nresults: ${out}\n`);
  return 0;
}

process.exitCode = await main();
