/** `neox-sim profiles validate [files…]`: schema, unit and consistency checks of hardware profiles. */
import { parseArgs } from 'node:util';
import { InputError } from '../../common/errors.js';
import { checkProfile } from '../../hardware/profile-checks.js';
import { loadProfileFile, shippedProfileFiles } from '../../hardware/profiles.js';

const HELP = `Usage: neox-sim profiles validate [files…]

Checks hardware profiles (GPUs, CPUs, NICs, switches, servers, clusters): JSON syntax, the JSON Schema of
their kind (hardware-profiles/schema/), units of every quantity ("1555 GB/s", "40 GiB", "312 TFLOP/s"), a
source for every value, references to other profiles, and that clusters can be built. With no files, checks
every shipped profile. Prints one line per file; exits 2 if any file is bad.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  const [sub, ...files] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(HELP);
    if (values.help) return 0;
    throw InputError.field('profiles', 'subcommand', 'validate (none given)');
  }
  if (sub !== 'validate') throw new InputError(`profiles: unknown subcommand "${sub}"; expected: validate`);
  const targets = files.length ? files : shippedProfileFiles();
  let bad = 0;
  for (const file of targets) {
    try {
      const p = loadProfileFile(file);
      checkProfile(p);
      process.stdout.write(`OK  ${p.display}  (${p.kind} ${p.id})\n`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      bad++;
      process.stderr.write(`neox-sim: ${err.message}\n`);
    }
  }
  return bad ? 2 : 0;
}
