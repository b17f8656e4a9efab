// The register-blocked GEMM micro-kernel: an MR×NR tile of C in MR·NR/4 f32x4 accumulators (8 of the 16
// xmm registers V8 allocates), updated once per k with NR/4 vector loads of packed B, MR broadcasts of
// packed A and MR·NR/4 multiply-adds.
import { madd } from './simd';

export const MR: i32 = 4;
export const NR: i32 = 8;

/**
 * tile[r][c] = (first ? 0 : tile[r][c]) + Σ_p pa[p][r]·pb[p][c] for r < MR, c < NR, adding the products
 * one at a time in ascending p. `ldt` is the tile's row stride in bytes.
 */
export function microKernel(kc: i32, pa: usize, pb: usize, tile: usize, ldt: usize, first: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (!first) {
    c00 = v128.load(tile); c01 = v128.load(tile, 16);
    c10 = v128.load(tile + ldt); c11 = v128.load(tile + ldt, 16);
    c20 = v128.load(tile + 2 * ldt); c21 = v128.load(tile + 2 * ldt, 16);
    c30 = v128.load(tile + 3 * ldt); c31 = v128.load(tile + 3 * ldt, 16);
  }
  const end = pa + <usize>(kc * MR * 4);
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile + ldt, c10); v128.store(tile + ldt, c11, 16);
  v128.store(tile + 2 * ldt, c20); v128.store(tile + 2 * ldt, c21, 16);
  v128.store(tile + 3 * ldt, c30); v128.store(tile + 3 * ldt, c31, 16);
}
