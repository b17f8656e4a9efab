import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import { InputError } from '../../common/errors.js';
import type { Param } from '../model/params.js';

/**
 * AdamW with gpt-neox's parameter groups (weight decay only on tensors with `decay`), run by the master
 * backend on master weights (float32 in fp16 mode: fp32 master weights and Adam states; otherwise the
 * parameters themselves). `zero1StepQuirk` reproduces DeeperSpeed ZeRO-1's extra optimizer.step() at
 * construction, so the first real update uses t = 2 in bias correction (neox-20b.md §3.1).
 */
export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  zero1StepQuirk?: boolean;
}

interface State {
  param: Param;
  master: FloatBuf;
  grad: FloatBuf;
  m: FloatBuf;
  v: FloatBuf;
}

export class AdamW {
  /** Optimizer steps taken (non-skipped). */
  steps = 0;
  readonly states: State[];

  /** `separateMaster`: keep fp32 master copies (fp16 mode); else update the parameters in place. */
  constructor(private readonly master: Kernels, params: Param[], private readonly o: AdamWOptions, separateMaster: boolean) {
    for (const k of ['beta1', 'beta2'] as const) {
      if (!(o[k] >= 0 && o[k] < 1)) throw InputError.field('optimizer', k, 'a number in [0, 1)', o[k]);
    }
    if (!(o.eps > 0)) throw InputError.field('optimizer', 'eps', 'a number > 0', o.eps);
    if (!(o.weightDecay >= 0)) throw InputError.field('optimizer', 'weightDecay', 'a number ≥ 0', o.weightDecay);
    this.states = params.map((p) => ({
      param: p,
      master: separateMaster ? master.alloc(p.size) : p.data,
      grad: separateMaster ? master.alloc(p.size) : p.grad,
      m: master.alloc(p.size),
      v: master.alloc(p.size),
    }));
    if (separateMaster) this.loadMasterFromParams();
  }

  /** Master ← model parameters (exact: binary16 values are float32 values). */
  loadMasterFromParams(): void {
    for (const s of this.states) if (s.master !== s.param.data) this.master.copy({ n: s.param.size, x: s.param.data, y: s.master });
  }

  /** Master grads ← model grads · factor (the unscale-and-clip multiply, in master precision). */
  takeGrads(factor: number): void {
    for (const s of this.states) {
      const n = s.param.size;
      if (s.grad !== s.param.grad) this.master.copy({ n, x: s.param.grad, y: s.grad });
      this.master.scale({ n, x: s.grad, alpha: factor, y: s.grad });
    }
  }

  /** One update of every tensor at learning rate lr; then model parameters ← master (model rounding). */
  step(lr: number, model: Kernels): void {
    this.steps += 1;
    const t = this.steps + (this.o.zero1StepQuirk ? 1 : 0);
    for (const s of this.states) {
      const wd = s.param.decay ? this.o.weightDecay : 0;
      this.master.adamw({ n: s.param.size, p: s.master, g: s.grad, m: s.m, v: s.v, lr, beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps, weightDecay: wd, step: t });
      if (s.master !== s.param.data) model.copy({ n: s.param.size, x: s.master, y: s.param.data });
    }
  }
}
