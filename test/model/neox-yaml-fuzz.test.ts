import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { validateConfig } from '../../src/model/config.js';
import { importParsed, parseNeoxYaml } from '../../src/model/neox-yaml.js';

const base = readFileSync(new URL('./fixtures/20B.yml', import.meta.url), 'utf8');

/** A small seeded generator (mulberry32) so every run mutates the same way. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = ['"x"', '-1', 'null', '[]', '{}', '1.5', 'true', '0', '"constructor"', '[[["local"], 44]]', '1e400', '{"a": {"b": 1}}', '3'];

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const i = Math.floor(r() * lines.length);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  switch (Math.floor(r() * 4)) {
    case 0: lines.splice(i, 1); break;
    case 1: lines.splice(i, 0, lines[i]!); break;
    case 2: lines[i] = lines[i]!.replace(/:\s*[^,{[]+,?$/, `: ${pick(VALUES)},`); break;
    default: return text.slice(0, Math.floor(r() * text.length));
  }
  return lines.join('\n');
}

describe('fuzzed gpt-neox configs', () => {
  it('either import to a valid model or fail with a one-line InputError, never anything else', () => {
    const r = rng(20220210);
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < 200; n++) {
      const text = mutate(mutate(base, r), r);
      try {
        const run = importParsed([parseNeoxYaml(text, 'fuzz.yml')], { name: 'fuzz' });
        validateConfig(run.model);
        accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(/^fuzz\.yml/);
        expect((err as Error).message).not.toContain('\n');
        rejected++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
