import { readFileSync } from 'node:fs';
import { f16Bits, f16FromBits } from '../../backends/f16.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';

/**
 * The safetensors format (huggingface/safetensors), written and read by hand: an 8-byte little-endian
 * header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}} padded with spaces to a multiple of 8, then the little-endian tensor bytes, each
 * tensor contiguous, no holes. Supported dtypes: F16, F32, F64.
 */
export type SafeDType = 'F16' | 'F32' | 'F64';

export interface SafeTensor {
  name: string;
  dtype: SafeDType;
  shape: number[];
  /** Values; for F16 they must already be binary16 values. */
  data: ArrayLike<number>;
}

const BYTES: Record<SafeDType, number> = { F16: 2, F32: 4, F64: 8 };

export function encodeSafetensors(tensors: SafeTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!;
      if (t.dtype === 'F64') view.setFloat64(at, v, true);
      else if (t.dtype === 'F32') view.setFloat32(at, v, true);
      else view.setUint16(at, f16Bits(v), true);
      at += BYTES[t.dtype];
    }
  }
  return out;
}

export function writeSafetensors(path: string, tensors: SafeTensor[], metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface DecodedTensor {
  dtype: SafeDType;
  shape: number[];
  /** Values widened to float64. */
  data: Float64Array;
}

/** Parses a safetensors file; every malformed part is an InputError naming the file and the field. */
export function decodeSafetensors(bytes: Uint8Array, file: string): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw InputError.field(file, 'header length', 'an 8-byte little-endian length (a safetensors file)', `${bytes.length} bytes`);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) throw InputError.field(file, 'header length', `at most ${bytes.length - 8} bytes`, n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  } catch {
    throw InputError.field(file, 'header', 'a JSON object');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw InputError.field(file, 'header', 'a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, DecodedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!entry || typeof entry !== 'object' || Array.isArray(entry) || !Object.values(entry).every((x) => typeof x === 'string')) {
        throw InputError.field(file, '__metadata__', 'an object of strings', entry);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw InputError.field(file, name, 'an object {dtype, shape, data_offsets}', entry);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F16' && e.dtype !== 'F32' && e.dtype !== 'F64') throw InputError.field(file, `${name}.dtype`, 'F16, F32 or F64', e.dtype);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw InputError.field(file, `${name}.shape`, 'an array of non-negative integers', shape);
    }
    const offsets = e.data_offsets;
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const size = count * BYTES[e.dtype];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o)) || offsets[1] - offsets[0] !== size || offsets[0] < 0 || offsets[1] > dataLength) {
      throw InputError.field(file, `${name}.data_offsets`, `[begin, begin + ${size}] within the ${dataLength} data bytes`, offsets);
    }
    const data = new Float64Array(count);
    const at = dataStart + offsets[0];
    for (let i = 0; i < count; i++) {
      const o = at + i * BYTES[e.dtype];
      data[i] = e.dtype === 'F64' ? view.getFloat64(o, true) : e.dtype === 'F32' ? view.getFloat32(o, true) : f16FromBits(view.getUint16(o, true));
    }
    tensors.set(name, { dtype: e.dtype, shape, data });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw InputError.field(path, '', 'a readable safetensors file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  return decodeSafetensors(bytes, path);
}
