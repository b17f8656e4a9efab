// Packing for the GEMM micro-kernel (Goto/BLIS style). Operands are addressed with general strides, so the
// three training products (A·B, A·Bᵀ, Aᵀ·B) share one driver: a transpose is only a swap of strides, and
// the packing routines pick a SIMD path for whichever stride is 1.
import { MR, NR } from './gemm-microkernel';
import { imin } from './simd';

/**
 * Copies a 4×4 block: 4 source lines (`ls` bytes apart, each 4 contiguous floats) become 4 destination
 * vectors (`ds` bytes apart), vector q holding element q of every line.
 */
// @ts-ignore: decorator
@inline function transpose4(src: usize, ls: usize, dst: usize, ds: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + ls);
  const r2 = v128.load(src + 2 * ls);
  const r3 = v128.load(src + 3 * ls);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(t0, t1, 0, 2));
  v128.store(dst + ds, v128.shuffle<i64>(t0, t1, 1, 3));
  v128.store(dst + 2 * ds, v128.shuffle<i64>(t2, t3, 0, 2));
  v128.store(dst + 3 * ds, v128.shuffle<i64>(t2, t3, 1, 3));
}

/**
 * Packs A[i][p] for i < h, p < kc into MR-row strips, p-major: strip s holds A[s·MR + r][p] at
 * (s·kc + p)·MR + r. Rows from h up to the next multiple of MR are zero. A[i][p] is at a + (i·rs + p·cs)·4.
 */
export function packA(a: usize, rs: i32, cs: i32, h: i32, kc: i32, dst: usize): void {
  const rsb = (<usize>rs) << 2;
  const csb = (<usize>cs) << 2;
  for (let i0 = 0; i0 < h; i0 += MR) {
    const rows = imin(MR, h - i0);
    const src = a + <usize>i0 * rsb;
    let p = 0;
    if (rows == MR && cs == 1) {
      // Rows 0-3 by 4×4 transposes, rows 4-5 by interleaving pairs, four k at a time.
      for (; p + 4 <= kc; p += 4) {
        const s = src + ((<usize>p) << 2);
        const d = dst + <usize>(p * MR * 4);
        transpose4(s, rsb, d, MR * 4);
        const r4 = v128.load(s + 4 * rsb);
        const r5 = v128.load(s + 5 * rsb);
        const lo = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5);
        const hi = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
        v128.store64_lane(d, lo, 0, 16);
        v128.store64_lane(d, lo, 1, MR * 4 + 16);
        v128.store64_lane(d, hi, 0, 2 * MR * 4 + 16);
        v128.store64_lane(d, hi, 1, 3 * MR * 4 + 16);
      }
    } else if (rows == MR && rs == 1) {
      for (; p < kc; p++) {
        const s = src + <usize>p * csb;
        const d = dst + <usize>(p * MR * 4);
        v128.store(d, v128.load(s));
        store<u64>(d, load<u64>(s, 16), 16);
      }
    }
    for (; p < kc; p++) {
      const d = dst + <usize>(p * MR * 4);
      for (let r = 0; r < MR; r++) {
        store<f32>(d + ((<usize>r) << 2), r < rows ? load<f32>(src + <usize>r * rsb + <usize>p * csb) : 0);
      }
    }
    dst += <usize>(MR * kc * 4);
  }
}

/**
 * Packs B[p][j] for p < kc, j < w into NR-column strips, p-major: strip s holds B[p][s·NR + c] at
 * (s·kc + p)·NR + c. Columns from w up to the next multiple of NR are zero. B[p][j] is at b + (p·rs + j·cs)·4.
 */
export function packB(b: usize, rs: i32, cs: i32, kc: i32, w: i32, dst: usize): void {
  const rsb = (<usize>rs) << 2;
  const csb = (<usize>cs) << 2;
  for (let j0 = 0; j0 < w; j0 += NR) {
    const cols = imin(NR, w - j0);
    const src = b + <usize>j0 * csb;
    let p = 0;
    if (cols == NR && cs == 1) {
      for (; p < kc; p++) {
        const s = src + <usize>p * rsb;
        const d = dst + <usize>(p * NR * 4);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && rs == 1) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + ((<usize>p) << 2);
        const d = dst + <usize>(p * NR * 4);
        transpose4(s, csb, d, NR * 4);
        transpose4(s + 4 * csb, csb, d + 16, NR * 4);
      }
    }
    for (; p < kc; p++) {
      const d = dst + <usize>(p * NR * 4);
      for (let c = 0; c < NR; c++) {
        store<f32>(d + ((<usize>c) << 2), c < cols ? load<f32>(src + <usize>c * csb + <usize>p * rsb) : 0);
      }
    }
    dst += <usize>(NR * kc * 4);
  }
}
