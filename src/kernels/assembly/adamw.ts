// One AdamW step (Kernels.adamw: FusedAdam ADAM_MODE_1, decoupled weight decay), elementwise and exact:
// every constant arrives rounded to float32 and every op is the reference's rounded float32 op.
import { CHUNK } from './elementwise';
import { st16 } from './fp16';
import { loadLanes, storeLanes } from './simd';
import { nextTask } from './tasks';

export function adamw(n: i32, p: usize, g: usize, m: usize, v: usize, lr: f32, beta1: f32, beta2: f32,
  oneMinusBeta1: f32, oneMinusBeta2: f32, bc1: f32, bc2: f32, eps: f32, wd: f32, f16: bool): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), c1 = f32x4.splat(oneMinusBeta1), c2 = f32x4.splat(oneMinusBeta2);
  const vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2), veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vlr = f32x4.splat(lr);
  for (let t = nextTask(); t * CHUNK < n; t = nextTask()) {
    const end = min(n, (t + 1) * CHUNK);
    for (let i = t * CHUNK; i < end; i += 4) {
      const gi = loadLanes(g, i, end);
      const pi = loadLanes(p, i, end);
      const mi = f32x4.add(f32x4.mul(b1, loadLanes(m, i, end)), f32x4.mul(c1, gi));
      const vi = f32x4.add(f32x4.mul(b2, loadLanes(v, i, end)), f32x4.mul(f32x4.mul(c2, gi), gi));
      const denom = f32x4.add(f32x4.sqrt(f32x4.div(vi, vbc2)), veps);
      const update = f32x4.add(f32x4.div(f32x4.div(mi, vbc1), denom), f32x4.mul(vwd, pi));
      storeLanes(m, i, end, st16(mi, f16));
      storeLanes(v, i, end, st16(vi, f16));
      storeLanes(p, i, end, st16(f32x4.sub(pi, f32x4.mul(vlr, update)), f16));
    }
  }
}
