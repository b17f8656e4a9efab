import { InputError } from '../../common/errors.js';
import { parseQuantity } from '../../hardware/units.js';

/**
 * Allocator headroom: memory left unused on purpose, because PyTorch's caching allocator rounds every block
 * (to 512 B, large ones to 2 MiB) and fragments its segments, so the tensors of a peak do not pack into
 * the GPU's memory exactly. It is taken off the GPU's usable memory: a plan fits when its peak (tensors and
 * runtime reserve) is at most usable − headroom. Either a fraction of the usable memory or a size.
 */
export type Headroom = { fraction: number } | { bytes: number };

/**
 * The default is none: no measured fragmentation figure for this workload was found (the ZeRO paper,
 * arXiv 1910.02054, on memory fragmentation, reports running out of memory "with over 30% of memory still
 * available" in extreme cases — not a typical figure), so the simulator does not guess; outputs say the
 * headroom is 0 and how to set it.
 */
export const DEFAULT_HEADROOM: Headroom = { bytes: 0 };
export const HEADROOM_SOURCE =
  'none by default: no measured fragmentation of PyTorch\'s caching allocator for this workload was found, so none is assumed; set --memory-headroom (a fraction such as 0.05 or 5%, or a size such as 2GB)';

/** What a plan's peak must fit in. */
export interface MemoryBudget {
  /** The GPU's usable memory (what CUDA reports). */
  usableBytes: number;
  headroom: Headroom;
  headroomBytes: number;
  /** usable − headroom. */
  budgetBytes: number;
}

export function memoryBudget(usableBytes: number, headroom: Headroom = DEFAULT_HEADROOM): MemoryBudget {
  const headroomBytes = 'fraction' in headroom ? headroom.fraction * usableBytes : headroom.bytes;
  return { usableBytes, headroom, headroomBytes, budgetBytes: usableBytes - headroomBytes };
}

/**
 * `--memory-headroom`: a fraction of the usable memory ("0.05", "5%") or a size ("2GB", "1.5 GiB", "0").
 * A bare number must be below 1 (a fraction), so that "2" is not silently read as 2 bytes or 200%.
 */
export function parseHeadroom(text: string, source: string, flag = '--memory-headroom'): Headroom {
  const t = text.trim();
  const expected = 'a fraction of the usable memory in [0, 1) such as 0.05 or 5%, or a size such as 2GB';
  const pct = /^(\d+(\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (f < 1) return { fraction: f };
    throw InputError.field(source, flag, expected, text);
  }
  if (/^\d*\.?\d+$/.test(t)) {
    const f = Number(t);
    if (f < 1) return f === 0 ? { bytes: 0 } : { fraction: f };
    throw InputError.field(source, flag, expected, text);
  }
  const b = parseQuantity(t.replace(/^(\d*\.?\d+)(?=[A-Za-z])/, '$1 '), 'bytes');
  if (b === null || !(b >= 0) || !Number.isFinite(b)) throw InputError.field(source, flag, expected, text);
  return { bytes: b };
}

/** The headroom in words: "2.0 GB", "5% of usable (2.1 GB)", or "0 (none set: …)". */
export function headroomWords(b: MemoryBudget): string {
  if ('fraction' in b.headroom) return `${+(100 * b.headroom.fraction).toFixed(2)}% of usable (${(b.headroomBytes / 1e9).toFixed(1)} GB)`;
  return b.headroomBytes > 0 ? `${(b.headroomBytes / 1e9).toFixed(1)} GB` : '0 (none set; --memory-headroom)';
}
