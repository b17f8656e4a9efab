import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { ByteTokenizer, checkCovers, defaultTokenizerName, loadTokenizer, NEOX_20B_TOKENIZER_FILE, tokenizeFile } from '../../src/trainer/data/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-tok-'));
const neox = loadTokenizer('neox-20b');
const ids = (s: string) => Array.from(neox.encode(s));

describe('GPT-NeoX-20B tokenizer (vendored tokenizer.json, @huggingface/tokenizers)', () => {
  it('is the EleutherAI file, byte for byte', () => {
    const bytes = readFileSync(NEOX_20B_TOKENIZER_FILE);
    expect(bytes.length).toBe(2_467_981);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade');
    expect(neox.name).toBe('neox-20b');
    expect(neox.vocabSize).toBe(50_277);
    expect(neox.eod).toBe(0);
  });

  it('gives HF tokenizers’ ids', () => {
    expect(ids('Hello world')).toEqual([12092, 1533]);
    // Whitespace runs are added tokens, matched before byte-level BPE: 8 spaces = 50270, then "return" without "Ġ".
    expect(ids('def f(x):\n        return x')).toEqual([1545, 269, 9, 89, 2262, 187, 50270, 2309, 1269]);
  });

  it('<|endoftext|> and <|padding|> in text are their special ids', () => {
    expect(ids('a<|endoftext|>b')).toEqual([66, 0, 67]);
    expect(ids('<|endoftext|><|padding|>')).toEqual([0, 1]);
    expect(neox.decode([0])).toBe('<|endoftext|>');
  });

  it('decode(encode(s)) returns the NFC form of the text', () => {
    for (const s of ['It is a truth universally acknowledged,\n\tthat a single man', 'Caf\u00e9 \u00fcn\u00efc\u00f6d\u00e9 日本語 Ελληνικά 🙂', '  x   y\n\n\n' + ' '.repeat(30) + 'z', "don't 12345 3.14159"]) {
      expect(neox.decode(neox.encode(s))).toBe(s.normalize('NFC'));
    }
    expect(neox.decode(neox.encode('Cafe\u0301'))).toBe('Caf\u00e9');
  });

  it('loads a tokenizer.json by path, and names the file when it is missing or malformed', () => {
    expect(loadTokenizer(NEOX_20B_TOKENIZER_FILE).encode('Hello world')).toEqual(Int32Array.from([12092, 1533]));
    expect(() => loadTokenizer(join(dir, 'none.json'))).toThrow(`${join(dir, 'none.json')}: expected a readable Hugging Face tokenizer.json file, got "ENOENT"`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"model": ');
    expect(() => loadTokenizer(bad)).toThrow(new RegExp(`^${bad}: expected a Hugging Face tokenizer.json \\(valid JSON\\), got "`));
    const novocab = join(dir, 'novocab.json');
    writeFileSync(novocab, '{"model": {"type": "BPE"}}');
    expect(() => loadTokenizer(novocab)).toThrow(`${novocab}: model.vocab: expected a Hugging Face tokenizer.json with a model vocabulary (token → id), got null`);
    expect(() => loadTokenizer('gpt2')).toThrow('--tokenizer: expected bytes | neox-20b | a tokenizer.json file, got "gpt2"');
  });
});

describe('tokenizer choice for a model', () => {
  it('defaults to neox-20b when the model has the NeoX vocabulary, else bytes', () => {
    expect(defaultTokenizerName(getPreset('neox-small').vocabSize)).toBe('neox-20b');
    expect(defaultTokenizerName(getPreset('pythia-70m').vocabSize)).toBe('neox-20b');
    expect(defaultTokenizerName(getPreset('neox-tiny').vocabSize)).toBe('bytes');
  });

  it('a tokenizer with more ids than the model has is rejected, naming the option', () => {
    expect(() => checkCovers(neox, 128)).toThrow("--tokenizer: neox-20b: vocabulary: expected at most the model's 128 token ids (use --tokenizer bytes, or a model with the NeoX vocabulary), got \"50277 ids\"");
    expect(() => checkCovers(neox, 50_277)).not.toThrow();
  });

  it('text files: byte tokens check each byte, BPE needs UTF-8', () => {
    const bytes = new ByteTokenizer();
    expect(Array.from(tokenizeFile(bytes, Buffer.from('Hi'), 128, 'f.txt'))).toEqual([72, 105]);
    expect(() => tokenizeFile(bytes, Buffer.from('é'), 128, 'f.txt')).toThrow(/^f.txt: byte 0: expected a byte below/);
    expect(bytes.decode(bytes.encode('Café'))).toBe('Café');
    expect(Array.from(tokenizeFile(neox, Buffer.from('Hello world'), 50_277, 'f.txt'))).toEqual([12092, 1533]);
    expect(() => tokenizeFile(neox, Uint8Array.from([0x48, 0xff]), 50_277, 'f.txt')).toThrow('f.txt: expected UTF-8 text (the neox-20b tokenizer reads text), got "invalid UTF-8"');
  });
});
