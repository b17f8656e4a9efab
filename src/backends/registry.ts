import { InputError } from '../common/errors.js';
import type { DType, Kernels, KernelsFactory } from './kernels.js';

/**
 * Backends by name, each loaded on first use. A new backend adds one line to `builtin` (or calls
 * `registerBackend` at run time), so the trainer picks one by name without importing it.
 */
const builtin: Record<string, () => Promise<KernelsFactory>> = {
  js: async () => (await import('./js/index.js')).createJsKernels,
  wasm: async () => (await import('./wasm/index.js')).createWasmKernels,
};
const registered = new Map<string, KernelsFactory>();

export function registerBackend(name: string, factory: KernelsFactory): void {
  registered.set(name, factory);
}

export function backendNames(): string[] {
  return [...new Set([...Object.keys(builtin), ...registered.keys()])];
}

export async function createKernels(name: string, dtype: DType): Promise<Kernels> {
  const factory = registered.get(name) ?? (await builtin[name]?.());
  if (!factory) throw InputError.field('', '--backend', `one of ${backendNames().join(', ')}`, name);
  return factory(dtype);
}

/** A synchronous factory for every dtype of one backend, created up front (backend set-up may be async). */
export async function loadBackend(name: string): Promise<(dtype: DType) => Kernels> {
  const variants = new Map<DType, Kernels>();
  for (const dtype of ['f64', 'f32', 'f16'] as const) variants.set(dtype, await createKernels(name, dtype));
  return (dtype) => variants.get(dtype)!;
}
