/**
 * The kernels' one shared WebAssembly.Memory and an allocator over it. Buffers handed to JavaScript are
 * typed-array views into this memory, so a kernel reads `view.byteOffset` as its pointer and nothing is
 * copied. A view's block is freed when the view is garbage-collected; subarrays keep their allocation alive.
 */
const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB: the most a 32-bit WebAssembly memory can address (and what the modules declare). */
export const MAX_PAGES = 65536;

interface Range { start: number; size: number }

/**
 * A Float32Array in the kernel memory whose subarrays hold a reference to the allocation they view, so it
 * is not freed while any of them lives. Copies (map, slice, filter) are plain Float32Arrays elsewhere.
 */
export class HeapF32 extends Float32Array<ArrayBufferLike> {
  static get [Symbol.species]() { return Float32Array; }
  owner?: object;
  override subarray(begin?: number, end?: number): HeapF32 {
    const [b, n] = range(this.length, begin, end);
    const sub = new HeapF32(this.buffer, this.byteOffset + 4 * b, n);
    sub.owner = this.owner ?? this;
    return sub;
  }
}

export class HeapI32 extends Int32Array<ArrayBufferLike> {
  static get [Symbol.species]() { return Int32Array; }
  owner?: object;
  override subarray(begin?: number, end?: number): HeapI32 {
    const [b, n] = range(this.length, begin, end);
    const sub = new HeapI32(this.buffer, this.byteOffset + 4 * b, n);
    sub.owner = this.owner ?? this;
    return sub;
  }
}

/** TypedArray.prototype.subarray's index rules: [start, count] of the view. */
function range(length: number, begin = 0, end = length): [number, number] {
  const clamp = (i: number) => { const t = Math.trunc(i) || 0; return t < 0 ? Math.max(length + t, 0) : Math.min(t, length); };
  const b = clamp(begin);
  return [b, Math.max(clamp(end) - b, 0)];
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** Free ranges, sorted by start and never adjacent (coalesced). */
  private free: Range[] = [];
  private sizes = new Map<number, number>();
  private buffers = new WeakSet<object>();
  private readonly finalizer = new FinalizationRegistry<number>((ptr) => this.release(ptr));

  /** `base`: the first byte the module does not use for its own static data. */
  constructor(base: number, initialBytes = 16 << 20) {
    const pages = Math.min(MAX_PAGES, Math.ceil((base + initialBytes) / PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    const start = alignUp(Math.max(base, ALIGN));
    this.free.push({ start, size: pages * PAGE - start });
    this.buffers.add(this.memory.buffer);
  }

  /** The memory's current buffer (a new object after each growth; earlier views stay valid). */
  get buffer(): SharedArrayBuffer {
    const b = this.memory.buffer as SharedArrayBuffer;
    this.buffers.add(b);
    return b;
  }

  /** A zeroed, 64-byte aligned block; returns its address. Grows the memory when needed. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    let i = this.free.findIndex((r) => r.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex((r) => r.size >= size);
    }
    const r = this.free[i]!;
    const ptr = r.start;
    if (r.size === size) this.free.splice(i, 1);
    else { r.start += size; r.size -= size; }
    this.sizes.set(ptr, size);
    new Uint8Array(this.buffer, ptr, size).fill(0);
    return ptr;
  }

  /** Returns a block from `alloc` (explicitly; views from `f32`/`i32` are released when collected). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < ptr) i++;
    this.free.splice(i, 0, { start: ptr, size });
    this.coalesce(i);
    if (i > 0) this.coalesce(i - 1);
  }

  /** A zeroed Float32Array of n elements in this memory, freed when it (and every subarray) is collected. */
  f32(n: number): HeapF32 {
    const ptr = this.alloc(n * 4);
    const view = new HeapF32(this.buffer, ptr, n);
    this.finalizer.register(view, ptr);
    return view;
  }

  i32(n: number): HeapI32 {
    const ptr = this.alloc(n * 4);
    const view = new HeapI32(this.buffer, ptr, n);
    this.finalizer.register(view, ptr);
    return view;
  }

  /** A view of memory the caller manages (scratch, control words). */
  f32At(ptr: number, n: number): Float32Array { return new Float32Array(this.buffer, ptr, n); }
  f64At(ptr: number, n: number): Float64Array { return new Float64Array(this.buffer, ptr, n); }
  i32At(ptr: number, n: number): Int32Array { return new Int32Array(this.buffer, ptr, n); }

  /** Whether a view lies in this memory (so its byteOffset is a kernel pointer). */
  owns(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  private grow(atLeast: number): void {
    const current = this.memory.buffer.byteLength / PAGE;
    const want = Math.max(Math.ceil(atLeast / PAGE) + 1, current); // at least double, for amortized growth
    const pages = Math.min(want, MAX_PAGES - current);
    if (pages <= 0 || pages * PAGE < atLeast) {
      throw new RangeError(`WASM kernel memory exhausted: cannot allocate ${atLeast} bytes within 4 GiB`);
    }
    const start = current * PAGE;
    this.memory.grow(pages);
    this.buffers.add(this.memory.buffer);
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.size === start) last.size += pages * PAGE;
    else this.free.push({ start, size: pages * PAGE });
  }

  private coalesce(i: number): void {
    const a = this.free[i];
    const b = this.free[i + 1];
    if (a && b && a.start + a.size === b.start) {
      a.size += b.size;
      this.free.splice(i + 1, 1);
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
