import { KernelRuntime } from '../../kernels/runtime.js';
import { createJsKernels } from '../js/index.js';
import type { DType, Kernels } from '../kernels.js';
import { WasmKernels } from './kernels.js';

let shared: KernelRuntime | undefined;

/**
 * The process-wide kernel runtime: one shared memory and one set of worker threads for every dtype
 * variant, so buffers of the f16 model and of the f32 master weights can meet in one kernel call.
 */
export function wasmRuntime(): KernelRuntime {
  shared ??= new KernelRuntime();
  return shared;
}

/** Stops the shared runtime's worker threads (they are unref'd, so this is only needed for tidy exits). */
export async function closeWasmRuntime(): Promise<void> {
  const rt = shared;
  shared = undefined;
  await rt?.close();
}

/**
 * The `wasm` backend. f32 and f16 run on the WebAssembly SIMD kernels; f64 (the exact validation precision)
 * is the js reference backend, since 128-bit SIMD holds only two float64 lanes.
 */
export function createWasmKernels(dtype: DType): Kernels {
  if (dtype === 'f64') return createJsKernels('f64');
  return new WasmKernels(wasmRuntime(), dtype);
}
