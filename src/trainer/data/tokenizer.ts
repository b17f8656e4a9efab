import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { InputError } from '../../common/errors.js';
import { bytesToTokens } from './byte-tokens.js';

/** Text ↔ token ids, as the trainer and `neox-sim data preprocess` use them. */
export interface TextTokenizer {
  /** `bytes`, `neox-20b`, or the tokenizer.json path it was loaded from. */
  readonly name: string;
  /** Number of token ids (largest id + 1). */
  readonly vocabSize: number;
  /** End-of-document id (`<|endoftext|>`), if the tokenizer has one. */
  readonly eod: number | undefined;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** The GPT-NeoX-20B tokenizer.json vendored with the package (EleutherAI, Apache-2.0; see data/tokenizers/NOTICE.md). */
export const NEOX_20B_TOKENIZER_FILE = fileURLToPath(new URL('../../../data/tokenizers/20B_tokenizer.json', import.meta.url));

/** Tokenizer ids of the NeoX-20B tokenizer: 50,254 BPE entries plus 23 added whitespace runs. */
export const NEOX_20B_VOCAB = 50_277;

/** Each UTF-8 byte is one id (0..255); no end-of-document id. */
export class ByteTokenizer implements TextTokenizer {
  readonly name = 'bytes';
  readonly vocabSize = 256;
  readonly eod = undefined;
  encode(text: string): Int32Array {
    return Int32Array.from(Buffer.from(text, 'utf8'));
  }
  decode(ids: ArrayLike<number>): string {
    return Buffer.from(Uint8Array.from(ids)).toString('utf8');
  }
}

/** A Hugging Face `tokenizer.json` run by @huggingface/tokenizers (pure JS; agrees with HF's Rust tokenizers on NeoX). */
export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly eod: number | undefined;
  private readonly tok: Tokenizer;

  constructor(readonly name: string, json: unknown, file: string) {
    const model = (json as { model?: { vocab?: unknown } } | null)?.model;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw InputError.field(file, '', 'a Hugging Face tokenizer.json object', typeof json);
    if (!model || typeof model !== 'object' || !model.vocab || typeof model.vocab !== 'object') {
      throw InputError.field(file, 'model.vocab', 'a Hugging Face tokenizer.json with a model vocabulary (token → id)', model?.vocab ?? null);
    }
    const vocab = Array.isArray(model.vocab) ? model.vocab.map((_, i) => i) : Object.values(model.vocab as Record<string, unknown>);
    const added = (json as { added_tokens?: unknown }).added_tokens;
    if (added !== undefined && !Array.isArray(added)) throw InputError.field(file, 'added_tokens', 'an array of {id, content}', added);
    let max = -1;
    for (const id of [...vocab, ...((added ?? []) as { id?: unknown }[]).map((t) => t?.id)]) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw InputError.field(file, 'model.vocab', 'non-negative integer token ids', id);
      if (id > max) max = id;
    }
    try {
      this.tok = new Tokenizer(json, {});
    } catch (err) {
      throw InputError.field(file, '', 'a Hugging Face tokenizer.json this library can load', (err as Error).message);
    }
    this.vocabSize = max + 1;
    this.eod = this.tok.token_to_id('<|endoftext|>');
  }

  encode(text: string): Int32Array {
    return Int32Array.from(this.tok.encode(text, { add_special_tokens: false }).ids);
  }
  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids));
  }
}

const cache = new Map<string, HfTokenizer>();

/**
 * `bytes`, `neox-20b` (the vendored NeoX-20B tokenizer) or a path to a tokenizer.json. `option` names the
 * flag in error messages.
 */
export function loadTokenizer(spec: string, option = '--tokenizer'): TextTokenizer {
  if (spec === 'bytes') return new ByteTokenizer();
  const file = spec === 'neox-20b' ? NEOX_20B_TOKENIZER_FILE : spec;
  const hit = cache.get(spec);
  if (hit) return hit;
  if (spec !== 'neox-20b' && !/\.json$/i.test(spec)) throw InputError.field('', option, 'bytes | neox-20b | a tokenizer.json file', spec);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw InputError.field(spec, '', 'a readable Hugging Face tokenizer.json file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw InputError.field(spec, '', 'a Hugging Face tokenizer.json (valid JSON)', (err as Error).message);
  }
  const tok = new HfTokenizer(spec, json, spec);
  cache.set(spec, tok);
  return tok;
}

/** The train command's default: the NeoX tokenizer when the model's vocabulary covers its ids, else bytes. */
export function defaultTokenizerName(modelVocab: number): 'neox-20b' | 'bytes' {
  return modelVocab >= NEOX_20B_VOCAB ? 'neox-20b' : 'bytes';
}

/**
 * Token ids of a text file for a model with `modelVocab` tokenizer ids. Byte tokens check every byte (ASCII
 * text trains the 128-id presets); a BPE tokenizer must fit the model's vocabulary as a whole, as gpt-neox
 * requires, and the file must be UTF-8.
 */
export function tokenizeFile(tok: TextTokenizer, bytes: Uint8Array, modelVocab: number, source: string, option = '--tokenizer'): Int32Array {
  if (tok instanceof ByteTokenizer) return bytesToTokens(bytes, modelVocab, source);
  checkCovers(tok, modelVocab, option);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw InputError.field(source, '', `UTF-8 text (the ${tok.name} tokenizer reads text)`, 'invalid UTF-8');
  }
  return tok.encode(text);
}

/** InputError when the tokenizer has more ids than the model has tokenizer ids. */
export function checkCovers(tok: TextTokenizer, modelVocab: number, option = '--tokenizer'): void {
  if (tok.vocabSize > modelVocab) {
    throw InputError.field(option, `${tok.name}: vocabulary`, `at most the model's ${modelVocab} token ids (use --tokenizer bytes, or a model with the NeoX vocabulary)`, `${tok.vocabSize} ids`);
  }
}
