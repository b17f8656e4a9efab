import { f16round } from '@petamoriken/float16';

/**
 * IEEE binary16 helpers. Node 20 has no Math.f16round; `@petamoriken/float16`'s f16round rounds a
 * float64 directly to binary16 (round-to-nearest-even, subnormals, overflow → ±Inf), bit-identical to
 * numpy on all 2^32 float32 inputs (numerics-and-data.md §2).
 */
export { f16round };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern of a value that is already exactly representable in binary16. */
export function f16Bits(value: number): number {
  f32[0] = value;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  const m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0); // Inf, NaN (quiet)
  if (e === 0) return sign; // ±0 (float32 subnormals are below binary16's range)
  if (e >= 113) return sign | ((e - 112) << 10) | (m >>> 13);
  return sign | ((m | 0x800000) >>> (126 - e)); // binary16 subnormal
}

/** The value of a binary16 bit pattern. */
export function f16FromBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1024 + m) * 2 ** (e - 25);
}
