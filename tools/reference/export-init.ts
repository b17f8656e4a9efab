// Writes each golden case's resolved model config and initial parameters (float64, state-dict order) for
// neox_reference.py. Usage: npx tsx tools/reference/export-init.ts <cases.json> <out dir>
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJsKernels } from '../../src/backends/js/index.js';
import { getPreset } from '../../src/model/presets.js';
import { initParams } from '../../src/trainer/model/init.js';
import { NeoXModel } from '../../src/trainer/model/neox.js';

const [casesFile, outDir] = process.argv.slice(2);
if (!casesFile || !outDir) throw new Error('usage: export-init.ts <cases.json> <out dir>');
mkdirSync(outDir, { recursive: true });
for (const c of JSON.parse(readFileSync(casesFile, 'utf8')).cases) {
  const cfg = { ...getPreset(c.preset), ...c.overrides };
  const K = createJsKernels('f64');
  const model = new NeoXModel(cfg, K);
  initParams(K, model.params, c.seed);
  const bytes = Buffer.concat(model.params.list.map((p) => Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)));
  writeFileSync(join(outDir, `${c.name}.init.bin`), bytes);
  const params = model.params.list.map((p) => ({ name: p.name, shape: p.shape, decay: p.decay }));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(outDir, `${c.name}.init.json`), JSON.stringify({ model: cfg, params, initSha256: sha256 }, null, 2));
  console.log(`${c.name}: ${model.params.count()} parameters, init sha256 ${sha256.slice(0, 16)}…`);
}
