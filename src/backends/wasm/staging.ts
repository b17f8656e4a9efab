import type { WasmHeap } from '../../kernels/heap.js';

type View = Float32Array | Int32Array;

/**
 * Kernel pointers for the buffers of one call. A view into the kernel memory is used in place (its
 * byteOffset is the pointer); any other Float32Array/Int32Array is copied into a temporary block, and
 * copied back after the call when it is an output. The same view object always maps to one pointer, so
 * aliased arguments (y = x) stay aliased.
 */
export class Staging {
  private readonly temps = new Map<View, { ptr: number; out: boolean }>();

  constructor(private readonly heap: WasmHeap) {}

  /** Pointer for reading `view`. */
  in(view: View): number {
    return this.ptr(view, false);
  }

  /** Pointer for a buffer the kernel writes (and may read). */
  out(view: View): number {
    return this.ptr(view, true);
  }

  /** Copies outputs back to their foreign views and frees the temporaries. */
  finish(): void {
    for (const [view, t] of this.temps) {
      if (t.out) new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(new Uint8Array(this.heap.buffer, t.ptr, view.byteLength));
      this.heap.release(t.ptr);
    }
    this.temps.clear();
  }

  private ptr(view: View, out: boolean): number {
    if (this.heap.owns(view)) return view.byteOffset;
    const known = this.temps.get(view);
    if (known) {
      known.out ||= out;
      return known.ptr;
    }
    const ptr = this.heap.alloc(view.byteLength);
    new Uint8Array(this.heap.buffer, ptr, view.byteLength).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    this.temps.set(view, { ptr, out });
    return ptr;
  }
}
