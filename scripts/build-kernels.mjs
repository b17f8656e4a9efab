// Compiles the AssemblyScript kernels (src/kernels/assembly) to two WebAssembly modules in build/kernels/:
//   neox-kernels.relaxed.wasm   SIMD128 + relaxed SIMD (f32x4.relaxed_madd: fused multiply-add where the CPU has it)
//   neox-kernels.simd128.wasm   portable SIMD128 (multiply, then add)
// Both import one shared memory (threads). Skips the work when both outputs are newer than every input.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src/kernels/assembly');
const outDir = join(root, 'build/kernels');
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');

const COMMON = [
  '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--enable', 'threads',
  // One shared memory, created by the loader and imported by every thread's instance; 65536 pages = 4 GiB.
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
];
const VARIANTS = [
  { file: 'neox-kernels.relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
  { file: 'neox-kernels.simd128.wasm', flags: [] },
];

const inputs = [fileURLToPath(import.meta.url), join(root, 'node_modules/assemblyscript/package.json'),
  ...readdirSync(sourceDir).filter((f) => f.endsWith('.ts')).map((f) => join(sourceDir, f))];
const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
const mtime = (f) => { try { return statSync(f).mtimeMs; } catch { return -Infinity; } };
const stale = VARIANTS.filter((v) => mtime(join(outDir, v.file)) < newestInput);
if (stale.length === 0) {
  console.log('kernels: build/kernels is up to date');
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
for (const v of stale) {
  const out = join(outDir, v.file);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(process.execPath, [asc, join(sourceDir, 'index.ts'), ...COMMON, ...v.flags, '-o', tmp], { cwd: root, stdio: 'inherit' });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    console.error(`kernels: asc failed for ${v.file}`);
    process.exit(1);
  }
  console.log(`kernels: built build/kernels/${v.file} (${statSync(out).size} bytes)`);
}
