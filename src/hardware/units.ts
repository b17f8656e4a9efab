/**
 * Quantities with units ("1555 GB/s", "40 GiB", "200 Gbit/s", "312 TFLOP/s") parsed with mathjs and converted
 * to SI numbers. Each profile field declares which dimension it holds, so a memory size given in GHz is an error.
 */
import { createRequire } from 'node:module';
import type * as MathJs from 'mathjs';
import type { Unit } from 'mathjs';

// mathjs's single-file bundle loads several times faster than its ESM build's module graph (a CLI start-up cost).
const mathjs = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as typeof MathJs;
const math = mathjs.create(mathjs.all);
// mathjs knows "b"/"bits" but not "bit" with prefixes ("Gbit", "Gibit"), and has no unit of work for FLOP counts.
math.createUnit('bit', { definition: '1 b', prefixes: 'binary_short', aliases: ['bits'] }, { override: true });
math.createUnit('FLOP', { prefixes: 'short', aliases: ['FLOPs', 'flop'] });
math.createUnit('FLOPS', { definition: '1 FLOP/s', prefixes: 'short' });

export type Dimension = 'bytes' | 'bandwidth' | 'frequency' | 'time' | 'flops';

interface DimensionInfo {
  /** The SI unit numbers are returned in. */
  si: string;
  /** How the expected form is described in error messages. */
  noun: string;
  example: string;
}

export const DIMENSIONS: Record<Dimension, DimensionInfo> = {
  bytes: { si: 'B', noun: 'a size in bytes', example: '40 GiB' },
  bandwidth: { si: 'B/s', noun: 'a bandwidth', example: '1555 GB/s' },
  frequency: { si: 'Hz', noun: 'a frequency', example: '1.41 GHz' },
  time: { si: 's', noun: 'a time', example: '130 ns' },
  flops: { si: 'FLOP/s', noun: 'a compute rate', example: '312 TFLOP/s' },
};

const reference = new Map<Dimension, Unit>(
  (Object.keys(DIMENSIONS) as Dimension[]).map((d) => [d, math.unit(DIMENSIONS[d].si)]),
);

/** "a positive bandwidth such as "1555 GB/s"" — the expected form of a quantity, for error messages. */
export function describeDimension(dim: Dimension): string {
  const { noun, example } = DIMENSIONS[dim];
  return `${noun.replace(/^a /, 'a positive ')} such as "${example}"`;
}

/**
 * Parses `text` as a quantity of dimension `dim` and returns it in SI units (bytes, bytes/s, Hz, s, FLOP/s),
 * or null if it is not a positive quantity of that dimension. Conversion noise is rounded to 12 digits.
 */
export function parseQuantity(text: string, dim: Dimension): number | null {
  let unit: Unit;
  try {
    unit = math.unit(text);
  } catch {
    return null;
  }
  const ref = reference.get(dim)!;
  if (!unit.units?.length || !unit.equalBase(ref)) return null;
  const value = Number(unit.toNumber(DIMENSIONS[dim].si).toPrecision(12));
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Like parseQuantity, for values already validated: throws if the text is not a quantity of `dim`. */
export function toSI(text: string, dim: Dimension): number {
  const v = parseQuantity(text, dim);
  if (v === null) throw new Error(`not ${describeDimension(dim)}: ${JSON.stringify(text)}`);
  return v;
}
