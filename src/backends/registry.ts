import { InputError } from '../common/errors.js';
import type { DType, Kernels, KernelsFactory } from './kernels.js';

/**
 * Backends by name. The js reference backend registers itself here; others (wasm, webgpu) call
 * `registerBackend` from their own module, so the trainer picks one by name without importing it.
 */
const factories = new Map<string, KernelsFactory>();

export function registerBackend(name: string, factory: KernelsFactory): void {
  factories.set(name, factory);
}

export function backendNames(): string[] {
  return [...factories.keys()];
}

export async function createKernels(name: string, dtype: DType): Promise<Kernels> {
  const factory = factories.get(name);
  if (!factory) throw InputError.field('', '--backend', `one of ${backendNames().join(', ')}`, name);
  return factory(dtype);
}
