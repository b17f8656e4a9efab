import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { InputError } from '../common/errors.js';

/**
 * Which build of the kernels runs. 'relaxed-fma': SIMD128 plus relaxed SIMD, whose f32x4.relaxed_madd is a
 * fused multiply-add on CPUs with FMA (x86-64 with FMA3, arm64). 'simd128': portable SIMD128, a rounded
 * multiply then a rounded add. Results are bit-identical within a variant (and across thread counts); the
 * two variants differ in the last bits of every dot product.
 */
export type KernelVariant = 'relaxed-fma' | 'simd128';

export interface KernelModule {
  readonly module: WebAssembly.Module;
  readonly variant: KernelVariant;
  /** Whether a multiply-add is a single rounding here (probed: relaxed_madd may also be unfused). */
  readonly fused: boolean;
}

/** Environment switch: NEOX_SIM_WASM_FMA=0 forces the portable build, =1 requires the relaxed build. */
export const FMA_ENV = 'NEOX_SIM_WASM_FMA';

const FILES: Record<KernelVariant, string> = {
  'relaxed-fma': 'neox-kernels.relaxed.wasm',
  simd128: 'neox-kernels.simd128.wasm',
};

/** build/kernels/, two levels above this file in both src/kernels and dist/kernels. */
const buildDir = new URL('../../build/kernels/', import.meta.url);

function readBuild(variant: KernelVariant): Uint8Array {
  try {
    return readFileSync(new URL(FILES[variant], buildDir));
  } catch {
    throw new Error(`WASM kernels not built: ${FILES[variant]} is missing from build/kernels (run npm run build)`);
  }
}

/**
 * Relaxed SIMD sits behind a V8 flag on Node 20. The flag cannot go in NODE_OPTIONS or a Worker's execArgv,
 * but setting it at run time, before compiling, works and is process-wide (workers see it too).
 */
function relaxedSimdValidates(bytes: Uint8Array): boolean {
  if (WebAssembly.validate(bytes)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

/** Picks and compiles a variant: `fma` (or NEOX_SIM_WASM_FMA) forces one; otherwise relaxed if it validates. */
export function loadKernelModule(opts: { fma?: boolean } = {}): KernelModule {
  const env = process.env[FMA_ENV];
  if (env !== undefined && env !== '' && env !== '0' && env !== '1') {
    throw InputError.field('environment', FMA_ENV, '0 (portable SIMD128) or 1 (relaxed-SIMD FMA)', env);
  }
  const want = opts.fma ?? (env === '0' ? false : env === '1' ? true : undefined);
  if (want !== false) {
    const bytes = readBuild('relaxed-fma');
    if (relaxedSimdValidates(bytes)) {
      const module = new WebAssembly.Module(bytes);
      return { module, variant: 'relaxed-fma', fused: probeFused(module) };
    }
    if (want === true) throw new Error('relaxed SIMD is not available in this Node.js (needed for the FMA kernels)');
  }
  return { module: new WebAssembly.Module(readBuild('simd128')), variant: 'simd128', fused: false };
}

/** relaxed_madd(1+2⁻¹², 1−2⁻¹², −1) is −2⁻²⁴ when fused and 0 when the product is rounded first. */
function probeFused(module: WebAssembly.Module): boolean {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as { maddProbe(a: number, b: number, c: number): number };
  return ex.maddProbe(1 + 2 ** -12, 1 - 2 ** -12, -1) !== 0;
}
