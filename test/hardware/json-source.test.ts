import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { locateJsonError, parseJson } from '../../src/hardware/json-source.js';

function errorOf(text: string): string {
  try {
    parseJson(text, 'f.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('parsed');
}

describe('JSON errors name line and column', () => {
  it.each([
    ['{"a": 1,\n  "b": }', 'line 2, column 8', 'a value', '"}"'],
    ['{"a": 1', 'line 1, column 8', "',' or '}'", 'end of file'],
    ['{\n  "a" 1\n}', 'line 2, column 7', "':'", '"1"'],
    ['{"a": 1,}', 'line 1, column 9', 'double-quoted property name', '"}"'],
    ['{"a": tru}', 'line 1, column 7', 'a value', '"tru"'],
    ['[1, 2] x', 'line 1, column 8', 'end of file after the JSON value', '"x"'],
    ['', 'line 1, column 1', 'a value', 'end of file'],
  ])('%j', (text, where, expected, got) => {
    const msg = errorOf(text);
    expect(msg).toContain(`f.json: ${where}: expected valid JSON`);
    expect(msg).toContain(expected);
    expect(msg).toMatch(new RegExp(`got ${got.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('agrees with JSON.parse on what is valid (fuzzed)', () => {
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const value = (depth: number): unknown => {
      const k = rnd(depth > 3 ? 4 : 6);
      if (k === 0) return rnd(1000) - 500 + rnd(100) / 8;
      if (k === 1) return `s${rnd(50)}\n"\\\u00e9`;
      if (k === 2) return [true, false, null][rnd(3)];
      if (k === 3) return 'x';
      if (k === 4) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    const junk = ['', ',', '}', ']', '"', ':', 'x', '\n', '1', '{', '\\'];
    for (let i = 0; i < 400; i++) {
      const text = JSON.stringify(value(0), null, rnd(2) ? 2 : undefined);
      expect(locateJsonError(text).expected).toBe('valid JSON');
      const at = rnd(text.length + 1);
      const broken = text.slice(0, at) + junk[rnd(junk.length)] + text.slice(at + rnd(2));
      let ok = true;
      try {
        JSON.parse(broken);
      } catch {
        ok = false;
      }
      const found = locateJsonError(broken);
      expect(found.expected === 'valid JSON', broken).toBe(ok);
      if (!ok) expect(found.offset).toBeLessThanOrEqual(broken.length);
    }
  });
});
