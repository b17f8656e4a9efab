import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';

/**
 * Megatron's mmap indexed dataset (gpt-neox `megatron/data/indexed_dataset.py`, `MMapIndexedDataset`), the
 * `<prefix>.bin` / `<prefix>.idx` pair that gpt-neox's `tools/preprocess_data.py` writes.
 *
 * .idx, little-endian: magic `MMIDIDX\0\0` (9 bytes), u64 version 1, u8 dtype code, u64 sequence count n,
 * u64 doc_idx length (documents + 1), i32 sizes[n] (tokens per sequence), i64 pointers[n] (byte offsets
 * into .bin), i64 doc_idx[documents + 1] (first sequence of each document, then n).
 * .bin: the sequences' token ids back to back in the dtype.
 */
export const IDX_MAGIC = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00]);
/** Bytes before the sizes array: magic, version, dtype code, two counts. */
export const IDX_HEADER_BYTES = 9 + 8 + 1 + 8 + 8;

export type TokenDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint16';

/** Megatron's dtype codes (6 float32 and 7 float64 exist too but cannot hold token ids). */
export const DTYPE_CODES: Record<TokenDtype, number> = { uint8: 1, int8: 2, int16: 3, int32: 4, int64: 5, uint16: 8 };
const DTYPE_BYTES: Record<TokenDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, int64: 8, uint16: 2 };
const CODE_DTYPE = new Map(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as TokenDtype]));

/** Megatron's `best_fitting_dtype`: uint16 below 65,500 ids, else int32. */
export function bestFittingDtype(vocabSize: number): TokenDtype {
  return vocabSize < 65_500 ? 'uint16' : 'int32';
}

export interface IndexedDataset {
  dtype: TokenDtype;
  /** Tokens of each sequence. */
  sizes: Int32Array;
  /** Byte offset of each sequence in .bin. */
  pointers: number[];
  /** First sequence of each document, then the sequence count (documents + 1 entries). */
  docIdx: number[];
  /** Token ids of every sequence, concatenated in index order. */
  tokens: Int32Array;
  /** Size of the .bin. */
  binBytes: number;
}

/** Encodes documents (each a list of sequences of token ids) as .bin and .idx bytes. */
export function encodeIndexedDataset(documents: Int32Array[][], dtype: TokenDtype): { bin: Uint8Array; idx: Uint8Array } {
  const sequences = documents.flat();
  const width = DTYPE_BYTES[dtype];
  const total = sequences.reduce((s, q) => s + q.length, 0);
  const bin = new Uint8Array(total * width);
  const bv = new DataView(bin.buffer);
  const docIdx = [0];
  for (const d of documents) docIdx.push(docIdx.at(-1)! + d.length);
  const n = sequences.length;
  const idx = new Uint8Array(IDX_HEADER_BYTES + 4 * n + 8 * n + 8 * docIdx.length);
  const iv = new DataView(idx.buffer);
  idx.set(IDX_MAGIC, 0);
  iv.setBigUint64(9, 1n, true);
  iv.setUint8(17, DTYPE_CODES[dtype]);
  iv.setBigUint64(18, BigInt(n), true);
  iv.setBigUint64(26, BigInt(docIdx.length), true);
  let at = 0;
  let p = IDX_HEADER_BYTES;
  const pointers = IDX_HEADER_BYTES + 4 * n;
  sequences.forEach((seq, i) => {
    iv.setInt32(p + 4 * i, seq.length, true);
    iv.setBigInt64(pointers + 8 * i, BigInt(at), true);
    for (const id of seq) {
      setToken(bv, dtype, at, id);
      at += width;
    }
  });
  p = pointers + 8 * n;
  docIdx.forEach((d, i) => iv.setBigInt64(p + 8 * i, BigInt(d), true));
  return { bin, idx };
}

/** Writes `<prefix>.bin` and `<prefix>.idx` atomically (neither is left behind if the second write fails). */
export function writeIndexedDataset(prefix: string, documents: Int32Array[][], dtype: TokenDtype): { binBytes: number; idxBytes: number } {
  const { bin, idx } = encodeIndexedDataset(documents, dtype);
  writeFileAtomic(`${prefix}.bin`, bin);
  try {
    writeFileAtomic(`${prefix}.idx`, idx);
  } catch (err) {
    rmSync(`${prefix}.bin`, { force: true });
    throw err;
  }
  return { binBytes: bin.length, idxBytes: idx.length };
}

/** Reads `<prefix>.bin` / `<prefix>.idx`. Any malformed byte is an InputError naming the file and field. */
export function readIndexedDataset(prefix: string): IndexedDataset {
  const read = (file: string): Uint8Array => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw InputError.field(file, '', 'a readable Megatron indexed dataset file (--data-prefix P reads P.bin and P.idx)', (err as NodeJS.ErrnoException).code ?? String(err));
    }
  };
  const idx = read(`${prefix}.idx`);
  const bin = read(`${prefix}.bin`);
  return decodeIndexedDataset(idx, bin, `${prefix}.idx`, `${prefix}.bin`);
}

export function decodeIndexedDataset(idx: Uint8Array, bin: Uint8Array, idxName: string, binName: string): IndexedDataset {
  if (idx.length < IDX_HEADER_BYTES) throw InputError.field(idxName, 'header', `a Megatron MMIDIDX index of at least ${IDX_HEADER_BYTES} bytes (truncated file)`, `${idx.length} bytes`);
  const magic = idx.subarray(0, 9);
  if (!magic.every((b, i) => b === IDX_MAGIC[i])) {
    throw InputError.field(idxName, 'magic', 'the bytes "MMIDIDX\\0\\0" (a Megatron mmap indexed dataset, gpt-neox dataset-impl mmap)', Buffer.from(magic).toString('latin1'));
  }
  const iv = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  const version = iv.getBigUint64(9, true);
  if (version !== 1n) throw InputError.field(idxName, 'version', '1', version.toString());
  const code = iv.getUint8(17);
  const dtype = CODE_DTYPE.get(code);
  if (!dtype) {
    const known = Object.entries(DTYPE_CODES).map(([k, v]) => `${v} ${k}`).join(', ');
    throw InputError.field(idxName, 'dtype', `an integer token dtype code (${known})`, code);
  }
  const nBig = iv.getBigUint64(18, true);
  const docsBig = iv.getBigUint64(26, true);
  const need = BigInt(IDX_HEADER_BYTES) + 12n * nBig + 8n * docsBig;
  if (need > BigInt(idx.length)) {
    throw InputError.field(idxName, 'length', `${need} bytes for ${nBig} sequences and ${docsBig} document-index entries (truncated file)`, `${idx.length} bytes`);
  }
  const n = Number(nBig);
  const docs = Number(docsBig);
  const width = DTYPE_BYTES[dtype];
  const sizes = new Int32Array(n);
  const pointers: number[] = new Array(n);
  const ptrAt = IDX_HEADER_BYTES + 4 * n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const size = iv.getInt32(IDX_HEADER_BYTES + 4 * i, true);
    if (size < 0) throw InputError.field(idxName, `sizes[${i}]`, 'a token count ≥ 0', size);
    const ptr = iv.getBigInt64(ptrAt + 8 * i, true);
    if (ptr < 0n || ptr + BigInt(size * width) > BigInt(bin.length)) {
      throw InputError.field(idxName, `pointers[${i}]`, `a byte offset with its ${size} ${dtype} tokens inside ${binName} (${bin.length} bytes)`, ptr.toString());
    }
    sizes[i] = size;
    pointers[i] = Number(ptr);
    total += size;
  }
  const docIdx: number[] = new Array(docs);
  const docAt = ptrAt + 8 * n;
  for (let i = 0; i < docs; i++) {
    const d = iv.getBigInt64(docAt + 8 * i, true);
    const prev = i === 0 ? 0n : BigInt(docIdx[i - 1]!);
    if (d < prev || d > nBig) throw InputError.field(idxName, `doc_idx[${i}]`, `a non-decreasing sequence index in [${prev}, ${n}]`, d.toString());
    docIdx[i] = Number(d);
  }
  const bv = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const tokens = new Int32Array(total);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0, at = pointers[i]!; k < sizes[i]!; k++, at += width) {
      const id = getToken(bv, dtype, at);
      if (id === undefined) throw InputError.field(binName, `sequence ${i}, token ${k}`, 'a token id that fits in int32', 'a larger int64');
      tokens[t++] = id;
    }
  }
  return { dtype, sizes, pointers, docIdx, tokens, binBytes: bin.length };
}

function setToken(v: DataView, dtype: TokenDtype, at: number, id: number): void {
  switch (dtype) {
    case 'uint8': return v.setUint8(at, id);
    case 'int8': return v.setInt8(at, id);
    case 'int16': return v.setInt16(at, id, true);
    case 'uint16': return v.setUint16(at, id, true);
    case 'int32': return v.setInt32(at, id, true);
    case 'int64': return v.setBigInt64(at, BigInt(id), true);
  }
}

function getToken(v: DataView, dtype: TokenDtype, at: number): number | undefined {
  switch (dtype) {
    case 'uint8': return v.getUint8(at);
    case 'int8': return v.getInt8(at);
    case 'int16': return v.getInt16(at, true);
    case 'uint16': return v.getUint16(at, true);
    case 'int32': return v.getInt32(at, true);
    case 'int64': {
      const x = v.getBigInt64(at, true);
      return x >= -(2n ** 31n) && x < 2n ** 31n ? Number(x) : undefined;
    }
  }
}
