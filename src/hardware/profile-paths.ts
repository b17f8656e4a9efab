/** Where the shipped hardware profiles live, and how file names are shown to the user. */
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** hardware-profiles/ at the package root (this module is src/hardware/*.ts or dist/hardware/*.js). */
export function profilesRoot(): string {
  return fileURLToPath(new URL('../../hardware-profiles/', import.meta.url));
}

/** A path as shown in messages: relative to the working directory when it lies below it. */
export function displayPath(path: string): string {
  const abs = resolve(path);
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}
