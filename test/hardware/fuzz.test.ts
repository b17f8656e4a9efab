import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { checkProfile } from '../../src/hardware/profile-checks.js';
import { loadProfileFile, shippedProfileFiles } from '../../src/hardware/profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-hw-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ODD_VALUES: unknown[] = [
  -1, 0, 1.5, 1e9, '', 'abc', '5 GHz', '-3 GB/s', '1e400 GB/s', '40 GiB', '0 ns', null, [], {}, true, [0, 0], [1e9], 'a100-sxm4-40gb',
];

/** Every path into a JSON value, e.g. ['hbm', 'bandwidth', 'value']. */
function paths(x: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (x === null || typeof x !== 'object') return [at];
  const keys = Array.isArray(x) ? x.map((_, i) => i) : Object.keys(x);
  return [at, ...keys.flatMap((k) => paths((x as Record<string | number, unknown>)[k], [...at, k]))];
}

describe('fuzzed profiles', () => {
  it('either load or fail with one InputError line, never a crash', () => {
    let seed = 2024;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let accepted = 0;
    let rejected = 0;
    let i = 0;
    for (const file of shippedProfileFiles()) {
      const original = loadProfileFile(file).data;
      const all = paths(original).filter((p) => p.length > 0);
      for (let m = 0; m < 40; m++) {
        const data = structuredClone(original) as unknown as Record<string | number, unknown>;
        for (let k = 1 + rnd(2); k > 0; k--) {
          const path = all[rnd(all.length)]!;
          let parent: Record<string | number, unknown> | undefined = data;
          for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string | number, unknown> | undefined;
          if (!parent || typeof parent !== 'object') continue;
          const last = path.at(-1)!;
          if (rnd(4) === 0 && !Array.isArray(parent)) delete parent[last];
          else parent[last] = structuredClone(ODD_VALUES[rnd(ODD_VALUES.length)]);
        }
        const copy = join(dir, `${i++}-${file.split('/').pop()}`);
        writeFileSync(copy, JSON.stringify(data));
        try {
          checkProfile(loadProfileFile(copy));
          accepted++;
        } catch (e) {
          if (!(e instanceof InputError)) throw new Error(`${copy}: ${(e as Error).stack}`);
          expect(e.message).not.toContain('\n');
          rejected++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(accepted);
  });
});
