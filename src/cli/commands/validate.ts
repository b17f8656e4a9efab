/** `neox-sim validate`: simulate published training runs and report how far the predictions are off. */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError } from '../../common/errors.js';
import { DEFAULT_NCCL } from '../../hardware/nccl-profile.js';
import { formatValidation } from '../../validate/format.js';
import { validatePublishedRuns } from '../../validate/validate.js';

const HELP = `Usage: neox-sim validate [--runs validation/published-runs.json] [--only id1,id2] [--json] [--jobs N]

Simulates one iteration of each published training run in the runs file — the model from its "model"
block and its framework's architecture, the cluster from its "hardware" block, the plan from its
parallelism, batch, recompute and precision — and compares the predicted seconds per iteration and
TFLOP/s per GPU (under the run's own FLOP convention) with the published figures. Prints the table, the
assumptions made per run, the runs that cannot be represented and why, the error statistics (mean absolute,
signed bias, spread, maximum) and a reading of where the simulator is systematically off. No constant is
fitted to these runs.

Options:
  --runs FILE     the published-runs file (default validation/published-runs.json)
  --only IDS      comma-separated run ids
  --json          print the report as JSON (schema neox-sim/validate@1) instead of text
  --jobs N        runs simulated at once, each in a worker thread (default: ${Math.min(2, availableParallelism())}, the CPUs up to 2)
  --nccl P        NCCL profile (default ${DEFAULT_NCCL})

Progress and the total time go to stderr. Large runs (1T parameters on 3,072 GPUs: 57 M tasks) take minutes.
`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      runs: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean' },
      jobs: { type: 'string' },
      nccl: { type: 'string', default: DEFAULT_NCCL },
    },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw InputError.field('validate', 'arguments', 'options only (see --help)', positionals.join(' '));
  const only = v.only?.split(',').map((s) => s.trim()).filter(Boolean);
  if (v.only !== undefined && !only?.length) throw InputError.field('validate', '--only', 'comma-separated run ids', v.only);
  if (v.jobs !== undefined && !/^[1-9]\d*$/.test(v.jobs)) throw InputError.field('validate', '--jobs', 'a whole number of at least 1', v.jobs);
  const jobs = v.jobs === undefined ? Math.min(2, availableParallelism()) : Number(v.jobs);

  const t0 = performance.now();
  const report = await validatePublishedRuns(v.runs ?? defaultRunsFile(), {
    only, jobs, nccl: v.nccl,
    progress: (e) => {
      const what = `[${e.index}/${e.total}] ${e.id} (${e.gpus.toLocaleString('en-US')} GPUs)`;
      process.stderr.write(e.done ? `${what}: ${(e.tasks! / 1e6).toFixed(2)} M tasks simulated in ${e.wallSeconds!.toFixed(1)} s\n` : `${what}: simulating…\n`);
    },
  });
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 1)}\n` : formatValidation(report));
  process.stderr.write(`validate: ${report.results.length} runs in ${((performance.now() - t0) / 1e3).toFixed(1)} s\n`);
  return 0;
}

/** The shipped runs file: as the relative path users type when run from the repository, else next to the package. */
function defaultRunsFile(): string {
  const relative = 'validation/published-runs.json';
  return existsSync(relative) ? relative : fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}
