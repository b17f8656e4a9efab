import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from './errors.js';

/**
 * Write a file so that readers see either the old content or the whole new one: temp file, then rename.
 * A path that cannot take a file (empty, a directory, a device, a read-only or missing place) is bad input:
 * an InputError naming the path, and no temp file is left behind. An existing non-regular file (a directory,
 * /dev/full) is refused before anything is written, as the rename would replace it.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const bad = (got: string) => InputError.field(path, '', 'a path where a file can be written', got);
  if (path === '') throw InputError.field('output path', '', 'a path where a file can be written', path);
  if (/[/\\]$/.test(path)) throw bad('a directory path');
  let existing;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw bad(reason(err));
  }
  if (existing && !existing.isFile()) throw bad(existing.isDirectory() ? 'a directory' : 'a special file (not a regular file)');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isFsError(err)) throw bad(reason(err));
    throw err;
  }
}

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** `ENOENT (no such file or directory)`: the code and the system's words, without the paths Node adds. */
function reason(err: unknown): string {
  if (!isFsError(err)) return String(err);
  const words = /^[A-Z0-9]+: ([^,]+)/.exec(err.message)?.[1];
  return words ? `${err.code} (${words})` : err.code!;
}
