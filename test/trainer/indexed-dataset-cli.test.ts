import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIndexedDataset } from '../../src/trainer/data/indexed-dataset.js';
import { repoRoot, runCliAsync as runAsync, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-idxcli-'));
const emma = join(import.meta.dirname, 'fixtures/emma.txt');
const steps = (out: string) => out.split('\n').filter((l) => /^\s+\d+\s+\d+\.\d{4}\s/.test(l));

describe('neox-sim data preprocess → train --data-prefix', () => {
  it('writes the .bin/.idx gpt-neox reads: documents from .jsonl lines and text files, EOD after each', () => {
    const jsonl = join(dir, 'docs.jsonl');
    writeFileSync(jsonl, '{"text": "Hello world"}\n\n{"text": "def f(x):\\n        return x"}\n');
    const prefix = join(dir, 'neox');
    const r = runCli(['data', 'preprocess', '--input', jsonl, '--input', emma, '--output-prefix', prefix, '--append-eod']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`2 input file(s), 3 document(s): 281 tokens (neox-20b tokenizer, an end-of-document id after each)\nwrote ${prefix}_text_document.bin (562 bytes, uint16) and ${prefix}_text_document.idx (102 bytes)\ntrain on it: neox-sim train --model <preset> --data-prefix ${prefix}_text_document\n`);
    const ds = readIndexedDataset(`${prefix}_text_document`);
    expect(ds.dtype).toBe('uint16');
    expect(ds.docIdx).toEqual([0, 1, 2, 3]);
    expect(Array.from(ds.tokens.subarray(0, 13))).toEqual([12092, 1533, 0, 1545, 269, 9, 89, 2262, 187, 50270, 2309, 1269, 0]);
    expect(ds.tokens.at(-1)).toBe(0);
    // NeoX ids do not fit a 128-id model.
    const t = runCli(['train', '--model', 'neox-tiny', '--data-prefix', `${prefix}_text_document`]);
    expect(t.status).toBe(2);
    expect(t.stderr).toBe(`neox-sim: ${prefix}_text_document.bin: token 0: expected an id in [0, 128) (the model's vocabulary), got 12092\n`);
  });

  it('training on a byte-token dataset matches training on the text itself', () => {
    const prefix = join(dir, 'emma-bytes');
    expect(runCli(['data', 'preprocess', '--input', emma, '--tokenizer', 'bytes', '--output-prefix', prefix]).status).toBe(0);
    const common = ['train', '--model', 'neox-tiny', '--steps', '3', '--batch', '2', '--backend', 'js'];
    const fromIdx = runCli([...common, '--data-prefix', `${prefix}_text_document`]);
    expect(fromIdx.status).toBe(0);
    expect(fromIdx.stdout).toContain(`data ${prefix}_text_document: 1 document(s), 1247 tokens (.bin/.idx), 77 samples\n`);
    expect(steps(fromIdx.stdout)).toEqual(steps(runCli([...common, '--data', emma]).stdout));
  });

  const bad = (name: string, idx: Uint8Array | undefined, bin: Uint8Array) => {
    const prefix = join(dir, name);
    if (idx) writeFileSync(`${prefix}.idx`, idx);
    writeFileSync(`${prefix}.bin`, bin);
    return prefix;
  };
  const header = (dtype: number, n: number, docs: number) => {
    const b = Buffer.alloc(34);
    b.write('MMIDIDX\0\0', 0, 'latin1');
    b.writeBigUInt64LE(1n, 9);
    b.writeUInt8(dtype, 17);
    b.writeBigUInt64LE(BigInt(n), 18);
    b.writeBigUInt64LE(BigInt(docs), 26);
    return b;
  };
  const body = (sizes: number[], pointers: number[], docIdx: number[]) => {
    const b = Buffer.alloc(4 * sizes.length + 8 * pointers.length + 8 * docIdx.length);
    let at = 0;
    for (const s of sizes) at = b.writeInt32LE(s, at);
    for (const p of [...pointers, ...docIdx]) at = b.writeBigInt64LE(BigInt(p), at);
    return b;
  };
  it.concurrent.each([
    ['truncated', () => bad('trunc', header(8, 1, 2).subarray(0, 30), Buffer.alloc(8)), (p: string) => `neox-sim: ${p}.idx: header: expected a Megatron MMIDIDX index of at least 34 bytes (truncated file), got "30 bytes"\n`],
    ['wrong magic', () => bad('magic', Buffer.from('not an index file at all, just text\n'), Buffer.alloc(8)), (p: string) => `neox-sim: ${p}.idx: magic: expected the bytes "MMIDIDX\\0\\0" (a Megatron mmap indexed dataset, gpt-neox dataset-impl mmap), got "not an in"\n`],
    ['float dtype', () => bad('f32', Buffer.concat([header(6, 1, 2), body([2], [0], [0, 1])]), Buffer.alloc(8)), (p: string) => `neox-sim: ${p}.idx: dtype: expected an integer token dtype code (1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 8 uint16), got 6\n`],
    ['pointer past .bin', () => bad('ptr', Buffer.concat([header(8, 2, 2), body([2, 2], [0, 6], [0, 2])]), Buffer.alloc(8)), (p: string) => `neox-sim: ${p}.idx: pointers[1]: expected a byte offset with its 2 uint16 tokens inside ${p}.bin (8 bytes), got "6"\n`],
  ])('bad dataset (%s): one line, exit 2', async (_name, make, message) => {
    const prefix = make();
    const r = await runAsync(['train', '--model', 'neox-tiny', '--data-prefix', prefix, '--save', `${prefix}.safetensors`]);
    expect(r.stderr).toBe(message(prefix));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(existsSync(`${prefix}.safetensors`)).toBe(false);
  });

  it.concurrent.each([
    ['no inputs', ['--output-prefix', 'x'], 'neox-sim: --input: expected at least one input file (.jsonl or text)\n'],
    ['bad json line', ['--input', 'BADJSONL', '--output-prefix', 'OUT'], 'neox-sim: BADJSONL: line 2: expected a JSON object with a "text" string, got "{oops"\n'],
    ['no text key', ['--input', 'NOTEXT', '--output-prefix', 'OUT'], 'neox-sim: NOTEXT: line 1: expected a JSON object with a "text" string, got {"body":"x"}\n'],
    ['eod without an eod id', ['--input', emma, '--tokenizer', 'bytes', '--append-eod', '--output-prefix', 'OUT'], 'neox-sim: --append-eod: expected a tokenizer with an end-of-document token <|endoftext|> (neox-20b), got "bytes"\n'],
    ['missing input', ['--input', '/no/such.txt', '--output-prefix', 'OUT'], 'neox-sim: /no/such.txt: expected a readable input file (.jsonl or text), got "ENOENT"\n'],
  ])('data preprocess bad input (%s): one line, exit 2, nothing written', async (_name, args, message) => {
    const out = mkdtempSync(join(dir, 'pre-'));
    writeFileSync(join(dir, 'bad.jsonl'), '{"text": "ok"}\n{oops\n');
    writeFileSync(join(dir, 'notext.jsonl'), '{"body": "x"}\n');
    const sub = (s: string) => s.replace('BADJSONL', join(dir, 'bad.jsonl')).replace('NOTEXT', join(dir, 'notext.jsonl')).replace('OUT', join(out, 'p'));
    const r = await runAsync(['data', 'preprocess', ...args.map(sub)]);
    expect(r.stderr).toBe(sub(message));
    expect(r.status).toBe(2);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--help', () => {
    const r = runCli(['data', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: neox-sim data preprocess/);
    expect(readFileSync(join(repoRoot, 'data/tokenizers/NOTICE.md'), 'utf8')).toMatch(/Apache License/);
  });
});
