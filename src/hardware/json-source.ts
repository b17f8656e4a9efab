/**
 * Reads a JSON file for the profile loader. V8's JSON.parse does not always say where the error is, so on
 * failure a small scanner finds the first offending character and reports it as line and column.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../common/errors.js';

export function readJsonFile(path: string, displayName: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${displayName}: cannot read file (${code === 'ENOENT' ? 'no such file' : code ?? 'error'})`);
  }
  return parseJson(text, displayName);
}

export function parseJson(text: string, displayName: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const { offset, expected } = locateJsonError(text);
    const { line, column } = lineColumn(text, offset);
    const token = /^("(?:[^"\\\n]|\\.)*"?|\w+|\S)/.exec(text.slice(offset))?.[0];
    const got = token === undefined ? 'end of file' : token.startsWith('"') ? token : `"${token}"`;
    throw new InputError(`${displayName}: line ${line}, column ${column}: expected valid JSON (${expected}), got ${got}`);
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Recursive-descent scan of RFC 8259 JSON; returns where it first fails and what it expected there. */
export function locateJsonError(text: string): { offset: number; expected: string } {
  let i = 0;
  class Fail {
    constructor(readonly offset: number, readonly expected: string) {}
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (expected: string): never => {
    throw new Fail(i, expected);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a value');
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail('a closing quote (control characters must be escaped)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail('a valid escape sequence');
      }
      i++;
    }
    if (i >= text.length) fail('a closing quote');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail('a number');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail('a value');
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') return void i++;
    for (;;) {
      ws();
      if (text[i] !== '"') fail('a double-quoted property name');
      string();
      ws();
      if (text[i] !== ':') fail("':' after the property name");
      i++;
      value();
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '}') return void i++;
      fail("',' or '}' after the property value");
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') return void i++;
    for (;;) {
      value();
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === ']') return void i++;
      fail("',' or ']' after the array element");
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail('end of file after the JSON value');
  } catch (e) {
    if (e instanceof Fail) return { offset: e.offset, expected: e.expected };
    throw e;
  }
  return { offset: text.length, expected: 'valid JSON' };
}
