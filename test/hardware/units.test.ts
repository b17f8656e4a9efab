import { describe, expect, it } from 'vitest';
import { parseQuantity, toSI } from '../../src/hardware/units.js';

describe('quantities with units', () => {
  it.each([
    ['1555 GB/s', 'bandwidth', 1555e9],
    ['200 Gbit/s', 'bandwidth', 25e9],
    ['200 Gb/s', 'bandwidth', 25e9],
    ['3.35 TB/s', 'bandwidth', 3.35e12],
    ['1 Gibit/s', 'bandwidth', 2 ** 30 / 8],
    ['40 GiB', 'bytes', 40 * 2 ** 30],
    ['40 GB', 'bytes', 40e9],
    ['40 MiB', 'bytes', 41943040],
    ['42405855232 B', 'bytes', 42405855232],
    ['1.41 GHz', 'frequency', 1.41e9],
    ['1410 MHz', 'frequency', 1.41e9],
    ['130 ns', 'time', 130e-9],
    ['0.47 us', 'time', 0.47e-6],
    ['312 TFLOP/s', 'flops', 312e12],
    ['312 TFLOPS', 'flops', 312e12],
    ['19.5 TFLOP/s', 'flops', 19.5e12],
  ] as const)('%s is %s %d in SI units', (text, dim, si) => {
    expect(parseQuantity(text, dim)).toBe(si);
  });

  it('tells GiB from GB and Gbit from GB', () => {
    expect(parseQuantity('1 GiB', 'bytes')! / parseQuantity('1 GB', 'bytes')!).toBeCloseTo(1.073741824, 12);
    expect(parseQuantity('8 Gbit/s', 'bandwidth')).toBe(parseQuantity('1 GB/s', 'bandwidth'));
  });

  it.each([
    ['1.41 GHz', 'bytes'],
    ['40 GiB', 'bandwidth'],
    ['312 TFLOP/s', 'frequency'],
    ['1555 GB', 'bandwidth'],
    ['-5 GB/s', 'bandwidth'],
    ['0 GB/s', 'bandwidth'],
    ['1555', 'bandwidth'],
    ['fast', 'bandwidth'],
    ['', 'time'],
  ] as const)('rejects %j as %s', (text, dim) => {
    expect(parseQuantity(text, dim)).toBeNull();
    expect(() => toSI(text, dim)).toThrow();
  });
});
