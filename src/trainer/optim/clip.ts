/**
 * DeepSpeed's unscale_and_clip_grads (stage1.py / fp16 optimizers): the norm is of the *scaled* grads,
 * clip = ((norm/lossScale) + 1e-6)/clipGrad, and the grads are multiplied by 1/combined where combined =
 * lossScale·clip when clip > 1, else lossScale. clipGrad = 0 disables clipping. In fp32/fp64 mode lossScale
 * is 1 and this is torch's clip_grad_norm_ coefficient clipGrad/(norm + 1e-6) written DeepSpeed's way.
 */
export function unscaleFactor(scaledNorm: number, lossScale: number, clipGrad: number): number {
  let combined = lossScale;
  if (clipGrad > 0) {
    const clip = (scaledNorm / lossScale + 1e-6) / clipGrad;
    if (clip > 1) combined = clip * lossScale;
  }
  return 1 / combined;
}
