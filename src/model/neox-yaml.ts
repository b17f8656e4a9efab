import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError } from '../common/errors.js';
import { normalizeKey, runFromKeys, type KeyEntry, type NeoxRun } from './neox-args.js';

/**
 * gpt-neox YAML config files in and out. The files are YAML flow mappings with `#` comments, trailing
 * commas and Python-style `True`; they are parsed as YAML 1.1 like PyYAML does. Several files merge in
 * order, as `deepy.py a.yml b.yml` does; a key set by two files is an error there and here.
 */

/** A marker comment the exporter writes so a re-import knows the tokenizer size (gpt-neox ignores comments). */
const VOCAB_MARK = /^#\s*neox-sim:\s*vocab-size=(\d+)/m;

export interface ParsedNeoxYaml {
  file: string;
  entries: Map<string, KeyEntry>;
  /** Tokenizer size recorded by neox-sim's exporter, if the file has the marker. */
  vocabMark?: number;
}

/** Parses one config text; `file` names it in errors. */
export function parseNeoxYaml(text: string, file: string): ParsedNeoxYaml {
  const doc = parseDocument(text, { version: '1.1' });
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : '(unknown line)';
    throw new InputError(`${file}: ${where}: expected valid YAML (${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`);
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // The yaml package refuses alias expansions that blow up ("billion laughs"): bad input, not a crash.
    throw InputError.field(file, '(top level)', 'valid YAML', (e as Error).message.split('\n')[0]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw InputError.field(file, '(top level)', 'a mapping of gpt-neox keys', data === null ? 'an empty document' : data);
  }
  const entries = new Map<string, KeyEntry>();
  for (const [key, value] of Object.entries(data)) {
    const name = normalizeKey(key);
    const prev = entries.get(name);
    if (prev) throw InputError.field(file, key, `one spelling of the key (gpt-neox treats "${prev.key}" and "${key}" as the same)`, 'both');
    entries.set(name, { key, value, file });
  }
  const mark = VOCAB_MARK.exec(text);
  return { file, entries, vocabMark: mark ? Number(mark[1]) : undefined };
}

/** Merges parsed files in order; a key in two files is an error (gpt-neox NeoXArgs.from_ymls). */
export function mergeNeoxYaml(files: ParsedNeoxYaml[]): Map<string, KeyEntry> {
  const merged = new Map<string, KeyEntry>();
  for (const f of files) {
    for (const [name, e] of f.entries) {
      const prev = merged.get(name);
      if (prev) throw InputError.field(f.file, e.key, `a key not already set by ${prev.file} (gpt-neox rejects duplicates across config files)`, e.value);
      merged.set(name, e);
    }
  }
  return merged;
}

export interface ImportOptions {
  /** Tokenizer ids, when the tokenizer_type does not say (or to override it). */
  vocabSize?: number;
  /** Model name for reports; defaults to the first file's base name. */
  name?: string;
}

/** Reads, merges and interprets gpt-neox config files into the model, training and parallel settings. */
export function importNeoxYaml(paths: string[], opts: ImportOptions = {}): NeoxRun {
  if (paths.length === 0) throw InputError.field('', '--config', 'at least one gpt-neox YAML file');
  const parsed = paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(`${p}: expected a readable gpt-neox YAML config (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
    }
    return parseNeoxYaml(text, p);
  });
  return importParsed(parsed, { name: opts.name ?? basename(paths[0]!, extname(paths[0]!)), vocabSize: opts.vocabSize });
}

export function importParsed(parsed: ParsedNeoxYaml[], opts: ImportOptions & { name: string }): NeoxRun {
  const vocabSize = opts.vocabSize ?? parsed.map((p) => p.vocabMark).find((v) => v !== undefined);
  return runFromKeys(mergeNeoxYaml(parsed), { name: opts.name, where: parsed.map((p) => p.file).join(' + '), vocabSize });
}
