import { readFileSync } from 'node:fs';
import { InputError } from '../common/errors.js';
import { commands } from './commands.js';

const HELP = `neox-sim — what will it take to train GPT-NeoX-20B (and models like it) on a given GPU cluster, and why?

Usage: neox-sim <command> [options]     (neox-sim <command> --help for its options)

Commands:
${'{list}'}
`;

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return HELP.replace('{list}', list);
}

/** Runs one CLI invocation and returns the exit code: 0 ok, 1 failure found by the command, 2 bad input. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    if (name) return 0;
    // No command is bad input: the usage above, and the one-line reason on stderr.
    process.stderr.write(`neox-sim: expected a command, one of ${commands.map((c) => c.name).join(', ')} (none given)\n`);
    return 2;
  }
  if (name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new InputError(`unknown command "${name}"; expected one of: ${commands.map((c) => c.name).join(', ')}`);
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof InputError || isArgError(err)) {
      // One line, whatever the source: parseArgs messages can span lines.
      const oneLine = (err as Error).message.replace(/\s*\n\s*/g, ' ').trim();
      process.stderr.write(`neox-sim: ${oneLine}\n`);
      return 2;
    }
    throw err;
  }
}

/** util.parseArgs reports unknown or malformed flags with these codes. */
function isArgError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? '';
  return code.startsWith('ERR_PARSE_ARGS');
}
