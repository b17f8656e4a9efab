// Build everything a fresh clone needs: the TypeScript CLI and library (dist/) and the WASM kernels (build/).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
const kernels = join(root, 'scripts/build-kernels.mjs');
if (existsSync(kernels)) run(process.execPath, [kernels]);
