import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { loadCluster } from '../../src/hardware/cluster.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shipped = (path: string) => JSON.parse(readFileSync(`hardware-profiles/${path}`, 'utf8'));
const write = (name: string, data: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
};

describe('runtime memory constants in the profiles', () => {
  it('load in SI: the GPU\'s CUDA context and cuBLAS workspaces, NCCL 2.10.3\'s buffers', () => {
    const gpu = loadCluster('supermicro12').gpu;
    expect(gpu.runtime).toEqual({ cudaContextBytes: 1685 * 2 ** 20, cublasWorkspaceBytes: 8_519_680, cublasHandles: 2 });
    expect(gpu.sources['runtime.cudaContext']).toMatch(/pytorch\/pytorch#55277.*\[assumption\]/);
    expect(loadNcclProfile().memory).toEqual({
      buffSizes: { LL: 524_288, LL128: 4_915_200, Simple: 4_194_304 }, connectorHeader: 4096, p2pAlignment: 2_097_152, p2pReadComputeCapability: 80, netGdrMaxPath: 'PXB',
    });
  });

  it('profiles validate names the file, the field and the expected form', () => {
    const noRuntime = shipped('gpus/a100-sxm4-40gb.json');
    delete noRuntime.runtime;
    const ghzContext = shipped('gpus/a100-sxm4-40gb.json');
    ghzContext.runtime.cudaContext.value = '1 GHz';
    const badBuffer = shipped('nccl/nccl-2.10.3.json');
    badBuffer.memory.buffSizes.value.Simple = -4;
    const badPath = shipped('nccl/nccl-2.10.3.json');
    badPath.memory.netGdrMaxPath.value = 'NVL';
    const cases: [string, unknown, string][] = [
      ['no-runtime.json', noRuntime, 'no-runtime.json: /runtime: expected GPU memory a training process holds besides its tensors'],
      ['ghz.json', ghzContext, 'ghz.json: /runtime/cudaContext/value: expected a positive size in bytes such as "40 GiB", got "1 GHz"'],
      ['buffer.json', badBuffer, 'buffer.json: /memory/buffSizes/value/Simple: expected a whole number of bytes, at least 1, got -4'],
      ['path.json', badPath, 'path.json: /memory/netGdrMaxPath/value: expected one of "PIX", "PXB", "PHB", "SYS"'],
    ];
    const r = runCli(['profiles', 'validate', ...cases.map(([name, data]) => write(name, data))]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(cases.length);
    cases.forEach(([, , part], i) => expect(lines[i]).toContain(part));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
