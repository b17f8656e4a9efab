import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-hw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shipped = (path: string) => JSON.parse(readFileSync(`hardware-profiles/${path}`, 'utf8'));
function write(name: string, data: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data, null, 2));
  return file;
}

function expectOneLineError(r: ReturnType<typeof runCli>, ...parts: string[]): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const p of parts) expect(lines[0]).toContain(p);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('neox-sim profiles validate', () => {
  it('checks every shipped profile', () => {
    const r = runCli(['profiles', 'validate']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('OK  hardware-profiles/gpus/a100-sxm4-40gb.json  (gpu a100-sxm4-40gb)');
    expect(r.stdout).toContain('OK  hardware-profiles/clusters/supermicro12.json  (cluster supermicro12)');
    expect(r.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(12);
  });

  it('reports each bad file on one line naming file, field and expected form', () => {
    const gpu = () => shipped('gpus/a100-sxm4-40gb.json');
    const missing = gpu();
    delete missing.hbm.bandwidth;
    const ghz = gpu();
    ghz.hbm.capacity.value = '1.41 GHz';
    const negative = gpu();
    negative.hbm.bandwidth.value = '-1555 GB/s';
    const unsourced = gpu();
    delete unsourced.sms.source;
    const server = shipped('servers/as-4124go-nart.json');
    server.gpu = 'a100-sxm9';
    const cluster = shipped('clusters/supermicro12.json');
    cluster.server = 'as-9999';
    const cases: Array<[string, unknown, string[]]> = [
      ['missing.json', missing, ['missing.json: /hbm/bandwidth: expected a bandwidth with its source', '(the field is missing)']],
      ['ghz.json', ghz, ['ghz.json: /hbm/capacity/value: expected a positive size in bytes such as "40 GiB", got "1.41 GHz"']],
      ['negative.json', negative, ['negative.json: /hbm/bandwidth/value: expected a positive bandwidth such as "1555 GB/s"', 'got "-1555 GB/s"']],
      ['unsourced.json', unsourced, ['unsourced.json: /sms/source: expected a source citation', '(the field is missing)']],
      ['server.json', server, ['server.json: /gpu: expected a known gpu profile (a100-sxm4-40gb, a100-sxm4-80gb, h100-sxm5-80gb)', 'got "a100-sxm9"']],
      ['cluster.json', cluster, ['cluster.json: /server: expected a known server profile (as-4124go-nart, dgx-a100, dgx-h100)', 'got "as-9999"']],
      ['malformed.json', '{\n  "kind": "gpu",\n  "id" "x"\n}\n', ['malformed.json: line 3, column 8: expected valid JSON', 'got "x"']],
    ];
    const files = cases.map(([name, data]) => write(name, data));
    const r = runCli(['profiles', 'validate', ...files, 'hardware-profiles/nics/connectx-6-hdr.json']);
    expect(r.status).toBe(2);
    expect(r.stdout.trim()).toBe('OK  hardware-profiles/nics/connectx-6-hdr.json  (nic connectx-6-hdr)');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(cases.length);
    cases.forEach(([, , parts], i) => {
      expect(lines[i]).toMatch(/^neox-sim: /);
      for (const p of parts) expect(lines[i]).toContain(p);
    });
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a single malformed file: exit 2, one line with line and column', () => {
    const file = write('trunc.json', '{"kind": "nic",\n  "id": "x"');
    expectOneLineError(runCli(['profiles', 'validate', file]), 'trunc.json: line 2, column 12: expected valid JSON', 'got end of file');
  });
});

describe('neox-sim cluster show', () => {
  it('explains supermicro12', () => {
    const r = runCli(['cluster', 'show', 'supermicro12']);
    expect(r.status).toBe(0);
    for (const s of [
      '12 nodes x 8 GPUs = 96 GPUs: NVIDIA A100-SXM4-40GB',
      'devices: gpu 96, nvswitch 12, pcie-switch 48, cpu 24, hca 48, ib-switch 2',
      'links:   nvlink 192, pcie 384, xgmi 24, hca 96, trunk 32',
      'NVLink per GPU: 12 links, 300 GB/s line, 240 GB/s payload',
      'injection per node: 4 HCAs x 25 GB/s = 100 GB/s line, 94 GB/s payload',
      'bisection: 600 GB/s line, 564 GB/s payload (full bisection',
      'trunk: 16 links x 25 GB/s = 400 GB/s line, 376 GB/s payload',
      'vs 24 HCA ports x 25 GB/s = 600 GB/s on each switch',
      '1.50:1 oversubscribed',
      'up to 2 GPUs share one HCA',
    ]) expect(r.stdout).toContain(s);
  });

  it('answers what-ifs as JSON', () => {
    const r = runCli(['cluster', 'show', 'supermicro12', '--gpu', 'h100', '--nics-per-node', '2', '--trunk-links', '8', '--nodes', '10', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.name).toBe('supermicro12 (nodes=10, gpu=h100-sxm5-80gb, nicsPerNode=2, trunkLinks=8)');
    expect([j.gpuCount, j.hcaCount, j.gpu.id]).toEqual([80, 20, 'h100-sxm5-80gb']);
    expect(j.metrics.injectionPerNode.line).toBe(50e9);
    expect(j.metrics.trunk.links).toBe(8);
    expect(j.metrics.oversubscription).toBeCloseTo(10 / 8, 12);
    expect(j.sources['nic.achievable']).toContain('SimAI');
  });

  it('shows a larger DGX fat tree', () => {
    const r = runCli(['cluster', 'show', 'dgx-a100', '--nodes', '128']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Fabric: 3-level rail-optimised fat tree: 56 leaves, 60 pod spines, 40 cores');
    expect(r.stdout).toContain('bisection: 12800 GB/s line');
    expect(r.stdout).toContain('(non-blocking)');
  });

  it.each([
    [['cluster', 'show', 'nope'], 'cluster: name: expected a known cluster profile (dgx-a100, dgx-h100, supermicro12)'],
    [['cluster', 'show', 'supermicro12', '--nodes', 'x'], '--nodes: expected a whole number of at least 1, got "x"'],
    [['cluster', 'show', 'supermicro12', '--nics-per-node', '3'], 'supermicro12: nicsPerNode: expected one of 1, 2, 4, 8'],
    [['cluster', 'show', 'supermicro12', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['cluster', 'show'], 'cluster show: <cluster>: expected a cluster id'],
  ])('%j is a one-line error (the other override errors: topology.test.ts)', (args, message) => {
    expectOneLineError(runCli(args), message);
  });

  it('prints help', () => {
    const r = runCli(['cluster', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--nics-per-node K');
  });
});
