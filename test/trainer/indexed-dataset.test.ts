import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestFittingDtype, decodeIndexedDataset, encodeIndexedDataset, readIndexedDataset, writeIndexedDataset, type TokenDtype } from '../../src/trainer/data/indexed-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-idx-'));
const docs = (...d: number[][][]) => d.map((doc) => doc.map((s) => Int32Array.from(s)));

describe('Megatron mmap indexed dataset (.bin/.idx)', () => {
  it('writes the header, sizes, pointers and doc_idx byte for byte', () => {
    const { bin, idx } = encodeIndexedDataset(docs([[12092, 1533, 0]], [[5, 6], [7]]), 'uint16');
    const v = new DataView(idx.buffer);
    expect(Buffer.from(idx.subarray(0, 9)).toString('latin1')).toBe('MMIDIDX\0\0');
    expect(v.getBigUint64(9, true)).toBe(1n); // version
    expect(idx[17]).toBe(8); // dtype code: uint16
    expect(v.getBigUint64(18, true)).toBe(3n); // sequences
    expect(v.getBigUint64(26, true)).toBe(3n); // documents + 1
    expect([0, 1, 2].map((i) => v.getInt32(34 + 4 * i, true))).toEqual([3, 2, 1]); // sizes
    expect([0, 1, 2].map((i) => v.getBigInt64(46 + 8 * i, true))).toEqual([0n, 6n, 10n]); // pointers (bytes)
    expect([0, 1, 2].map((i) => v.getBigInt64(70 + 8 * i, true))).toEqual([0n, 1n, 3n]); // doc_idx
    expect(idx.length).toBe(94);
    expect(Array.from(new Uint16Array(bin.buffer))).toEqual([12092, 1533, 0, 5, 6, 7]);
  });

  it.each<TokenDtype>(['uint8', 'int8', 'int16', 'uint16', 'int32', 'int64'])('round-trips through files (%s)', (dtype) => {
    const prefix = join(dir, `rt_${dtype}`);
    const d = docs([[1, 2, 3]], [], [[4], [5, 6, 7, 8]]);
    const w = writeIndexedDataset(prefix, d, dtype);
    expect(readFileSync(`${prefix}.idx`).length).toBe(w.idxBytes);
    const ds = readIndexedDataset(prefix);
    expect(ds.dtype).toBe(dtype);
    expect(Array.from(ds.sizes)).toEqual([3, 1, 4]);
    expect(ds.docIdx).toEqual([0, 1, 1, 3]);
    expect(Array.from(ds.tokens)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('picks uint16 below 65,500 ids, else int32 (Megatron best_fitting_dtype)', () => {
    expect(bestFittingDtype(50_277)).toBe('uint16');
    expect(bestFittingDtype(65_500)).toBe('int32');
  });

  describe('bad input: one InputError naming the file and field', () => {
    const good = encodeIndexedDataset(docs([[1, 2, 3]], [[4, 5]]), 'uint16');
    const decode = (idx: Uint8Array, bin = good.bin) => () => decodeIndexedDataset(idx, bin, 'p.idx', 'p.bin');
    const patched = (at: number, bytes: number[]) => {
      const c = good.idx.slice();
      c.set(bytes, at);
      return c;
    };
    it('truncated header or body', () => {
      expect(decode(good.idx.subarray(0, 20))).toThrow('p.idx: header: expected a Megatron MMIDIDX index of at least 34 bytes (truncated file), got "20 bytes"');
      expect(decode(good.idx.subarray(0, good.idx.length - 1))).toThrow(`p.idx: length: expected ${good.idx.length} bytes for 2 sequences and 3 document-index entries (truncated file), got "${good.idx.length - 1} bytes"`);
    });
    it('wrong magic, version, dtype', () => {
      // The magic of Megatron's older non-mmap IndexedDataset (dataset-impl "cached"/"lazy").
      expect(decode(patched(0, [...Buffer.from('TNTIDX\0\0\0', 'latin1')]))).toThrow('p.idx: magic: expected the bytes "MMIDIDX\\0\\0" (a Megatron mmap indexed dataset, gpt-neox dataset-impl mmap), got "TNTIDX\\u0000\\u0000\\u0000"');
      expect(decode(patched(9, [2]))).toThrow('p.idx: version: expected 1, got "2"');
      expect(decode(patched(17, [6]))).toThrow('p.idx: dtype: expected an integer token dtype code (1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 8 uint16), got 6');
    });
    it('a pointer past the end of .bin', () => {
      expect(decode(good.idx, good.bin.subarray(0, 9))).toThrow('p.idx: pointers[1]: expected a byte offset with its 2 uint16 tokens inside p.bin (9 bytes), got "6"');
    });
  });
});
