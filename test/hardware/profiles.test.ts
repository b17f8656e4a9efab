import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors.js';
import { checkProfile } from '../../src/hardware/profile-checks.js';
import type { GpuProfile } from '../../src/hardware/profile-types.js';
import { loadProfileFile, shippedProfileFiles } from '../../src/hardware/profiles.js';
import { validateProfile } from '../../src/hardware/schema.js';
import { gpuSpec, ibSwitchSpec, nicSpec, pcieSwitchSpec } from '../../src/hardware/specs.js';

const a100 = () => loadProfileFile('hardware-profiles/gpus/a100-sxm4-40gb.json').data as GpuProfile;
const copy = <T>(x: T): T => structuredClone(x);

function schemaError(data: unknown): string {
  try {
    validateProfile('gpu', data, 'g.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('valid');
}

describe('shipped profiles', () => {
  it('all validate and pass the consistency checks', () => {
    const files = shippedProfileFiles();
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) checkProfile(loadProfileFile(f));
  });

  it('give every quantity a source', () => {
    for (const f of shippedProfileFiles()) {
      const walk = (x: unknown, path: string): void => {
        if (x && typeof x === 'object' && !Array.isArray(x)) {
          if ('value' in x) expect((x as { source?: string }).source, `${f}${path}`).toMatch(/\S{3}/);
          for (const [k, v] of Object.entries(x)) walk(v, `${path}/${k}`);
        }
      };
      walk(loadProfileFile(f).data, '');
    }
  });
});

describe('schema validation', () => {
  it('names the missing field and its expected form', () => {
    const d = copy(a100()) as unknown as { hbm: { bandwidth?: unknown } };
    delete d.hbm.bandwidth;
    expect(schemaError(d)).toBe('g.json: /hbm/bandwidth: expected a bandwidth with its source, such as {"value": "1555 GB/s", "source": "..."} (the field is missing)');
  });

  it('rejects a memory size given in GHz', () => {
    const d = copy(a100());
    d.hbm.capacity.value = '1.41 GHz';
    expect(schemaError(d)).toBe('g.json: /hbm/capacity/value: expected a positive size in bytes such as "40 GiB", got "1.41 GHz"');
  });

  it('rejects a negative bandwidth and a bare number', () => {
    const d = copy(a100());
    d.nvlink.bandwidth.value = '-300 GB/s';
    expect(schemaError(d)).toContain('/nvlink/bandwidth/value: expected a positive bandwidth such as "1555 GB/s"');
    (d.nvlink.bandwidth as { value: unknown }).value = 300;
    expect(schemaError(d)).toMatch(/\/nvlink\/bandwidth\/value: expected a positive bandwidth .*, got 300$/);
  });

  it('requires a source on every quantity', () => {
    const d = copy(a100()) as unknown as { sms: { source?: string } };
    delete d.sms.source;
    expect(schemaError(d)).toMatch(/^g\.json: \/sms\/source: expected a source citation .* \(the field is missing\)$/);
  });

  it('rejects unknown fields, bad counts and fractions, and counts further problems', () => {
    const d = copy(a100()) as unknown as Record<string, unknown> & GpuProfile;
    d.turbo = true;
    expect(schemaError(d)).toContain('/turbo: expected only the known fields');
    delete d.turbo;
    d.sms.value = 0;
    d.calibration.hbmEfficiency.value = 1.2;
    const msg = schemaError(d);
    expect(msg).toMatch(/expected (a whole number of at least 1|a number greater than 0 and at most 1)/);
    expect(msg).toContain('(and 1 more problem)');
  });
});

describe('conversion to SI numbers', () => {
  it('A100-SXM4-40GB', () => {
    const g = gpuSpec(a100());
    expect(g.tensorFlops).toEqual({ fp16: 312e12, bf16: 312e12, tf32: 156e12, fp64: 19.5e12 });
    expect(g.vectorFlops).toEqual({ fp32: 19.5e12, fp64: 9.7e12 });
    expect(g.hbmBytes).toBe(40 * 2 ** 30);
    expect(g.hbmUsableBytes).toBe(42405855232);
    expect(g.hbmBandwidth).toBe(1555e9);
    expect(g.l2Bytes).toBe(41943040);
    expect(g.smCount).toBe(108);
    expect(g.boostClockHz).toBe(1.41e9);
    expect(g.nvlinkBandwidth).toBe(300e9);
    expect(g.pcieBandwidth).toBe(31.5e9);
    expect(g.calibration.gemmEfficiency).toBeCloseTo(267.9 / 312, 12);
    expect(g.calibration.gemmTiles[0]).toEqual({ m: 256, n: 128 });
    expect(g.calibration.nvlinkPayloadBandwidth).toBe(240e9);
    expect(g.sources['tensor.bf16']).toContain('datasheet');
  });

  it('H100 has fp8 and its own calibration', () => {
    const h = gpuSpec(loadProfileFile('hardware-profiles/gpus/h100-sxm5-80gb.json').data as GpuProfile);
    expect(h.tensorFlops.fp8).toBe(1978.9e12);
    expect(h.hbmBandwidth).toBe(3.35e12);
    expect(h.smCount).toBe(132);
    expect(h.calibration.gemmEfficiency).toBeCloseTo(792.1 / 989.4, 12);
  });

  it('HDR HCA, switch and PCIe switch rates', () => {
    const nic = nicSpec(loadProfileFile('hardware-profiles/nics/connectx-6-hdr.json').data as never);
    expect([nic.lineRate, nic.achievable, nic.latency]).toEqual([25e9, 23.5e9, 300e-9]);
    const sw = ibSwitchSpec(loadProfileFile('hardware-profiles/switches/mqm8700-hs2r.json').data as never);
    expect([sw.ports, sw.portRate, sw.latency]).toEqual([40, 25e9, 130e-9]);
    const pcie = pcieSwitchSpec(loadProfileFile('hardware-profiles/switches/pcie-gen4-switch.json').data as never);
    expect([pcie.portRate, pcie.portPayload, pcie.latency]).toEqual([31.5e9, 24e9, 105e-9]);
  });
});
