import type { AttentionVariant, DType, Kernels } from '../backends/kernels.js';
import { createWasmKernels } from '../backends/wasm/index.js';
import { InputError } from '../common/errors.js';
import type { NeoXConfig } from '../model/config.js';
import { copyIn, initParams } from './model/init.js';
import { NeoXModel } from './model/neox.js';
import { AdamW, type AdamWOptions } from './optim/adamw.js';
import { AnnealingLR, type AnnealingLROptions } from './optim/annealing-lr.js';
import { unscaleFactor } from './optim/clip.js';
import { DynamicLossScaler, type LossScalerOptions } from './optim/loss-scaler.js';
import { backendsFor, type Precision } from './precision.js';
import { assertFinite, checkTrainerFits, validateTokens, validateTrainerConfig } from './validate.js';

export interface TrainerOptions {
  model: NeoXConfig;
  /** Default fp32. */
  precision?: Precision;
  /** Makes a backend variant per dtype; default the wasm backend (f64 runs on the js reference). */
  backend?: (dtype: DType) => Kernels;
  /** Init seed; default 1234 (gpt-neox's default seed). */
  seed?: number;
  /** Sequences per micro-batch; default 1. */
  microBatchSize?: number;
  /** Micro-batches per optimizer step (GAS); default 1. */
  gradientAccumulationSteps?: number;
  /** Tokens per sequence; default the model's seqLength. */
  seqLength?: number;
  /** AdamW; defaults are the 20B run's (β 0.9/0.95, eps 1e-8, weight decay 0.01). */
  optimizer?: Partial<AdamWOptions>;
  /** AnnealingLR; defaults are the 20B run's (0.97e-4 → 0.97e-5 cosine, warmup 1500 of 150,000). */
  schedule?: Partial<AnnealingLROptions>;
  /** Global-norm clipping threshold; 0 disables. Default 1.0 (the 20B run). */
  clipGrad?: number;
  /** fp16 only; defaults are the 20B run's (2^12, window 1000, hysteresis 2, min 1). */
  lossScaler?: Partial<LossScalerOptions>;
  /**
   * The attention kernel: 'materialized' (default; the 2022 run's path, probabilities kept for the backward)
   * or 'flash' (memory-lean, recomputes them; on backends that list it, docs/numerics.md).
   */
  attention?: AttentionVariant;
}

export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['materialized', 'flash'];

export interface StepResult {
  /** Mean next-token loss over the step's micro-batches. */
  loss: number;
  /** Global L2 norm of the unscaled gradients before clipping; NaN when the step overflowed. */
  gradNorm: number;
  /** The learning rate this step used (or would have used, when skipped). */
  lr: number;
  /** The loss scale this step's backward used (1 outside fp16). */
  lossScale: number;
  /** True when the gradients were not finite: the weights and the schedule were left untouched. */
  skipped: boolean;
}

export const NEOX_20B_OPTIMIZER: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 };
export const NEOX_20B_SCHEDULE: AnnealingLROptions = { lr: 0.97e-4, minLr: 0.97e-5, warmupIters: 1500, decayIters: 150000, style: 'cosine' };
export const NEOX_20B_LOSS_SCALER: LossScalerOptions = { initialScalePower: 12, window: 1000, hysteresis: 2, minScale: 1 };

/**
 * Trains a NeoX model the way gpt-neox + DeeperSpeed 0.3.15 step it: per micro-batch forward and backward
 * of loss·lossScale/GAS accumulating into the gradients; an overflow check; unscale-and-clip by the
 * global norm; AdamW at the AnnealingLR rate; fp16 parameters refreshed from the fp32 master weights.
 */
export class Trainer {
  readonly model: NeoXModel;
  readonly precision: Precision;
  readonly microBatchSize: number;
  readonly gradientAccumulationSteps: number;
  readonly seqLength: number;
  readonly schedule: AnnealingLR;
  readonly optimizer: AdamW;
  readonly scaler: DynamicLossScaler | undefined;
  readonly clipGrad: number;
  /** Iterations run, skipped ones included (gpt-neox's iteration counter). */
  iteration = 0;
  private readonly master: Kernels;
  private readonly ids: Int32Array;
  private readonly targets: Int32Array;

  constructor(o: TrainerOptions) {
    this.precision = o.precision ?? 'fp32';
    const { model: K, master } = backendsFor(this.precision, o.backend ?? createWasmKernels);
    this.master = master;
    validateTrainerConfig(o.model);
    const attention = o.attention ?? 'materialized';
    if (!ATTENTION_VARIANTS.includes(attention)) throw InputError.field('trainer', 'attention', ATTENTION_VARIANTS.join(' | '), attention);
    if (!K.attentionVariants.includes(attention)) {
      throw InputError.field('trainer', 'attention', `${K.attentionVariants.join(' | ')} on the ${K.name} backend (it has no ${attention} kernel)`, attention);
    }
    this.microBatchSize = positiveInt('microBatchSize', o.microBatchSize ?? 1);
    this.gradientAccumulationSteps = positiveInt('gradientAccumulationSteps', o.gradientAccumulationSteps ?? 1);
    this.seqLength = positiveInt('seqLength', o.seqLength ?? o.model.seqLength);
    if (this.seqLength > o.model.maxPositionEmbeddings) {
      throw InputError.field('trainer', 'seqLength', `at most maxPositionEmbeddings (${o.model.maxPositionEmbeddings})`, this.seqLength);
    }
    // Every buffer is sized before any is allocated: too large a model or batch is bad input, not a RangeError.
    checkTrainerFits(o.model, { model: K, master, microBatchSize: this.microBatchSize, gradientAccumulationSteps: this.gradientAccumulationSteps, seqLength: this.seqLength, attention });
    this.model = new NeoXModel(o.model, K, master);
    for (const layer of this.model.layers) layer.attention.useVariant(attention);
    this.clipGrad = o.clipGrad ?? 1.0;
    if (!(this.clipGrad >= 0)) throw InputError.field('trainer', 'clipGrad', 'a number ≥ 0', o.clipGrad);
    const seed = o.seed ?? 1234;
    if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw InputError.field('trainer', 'seed', 'an integer in [0, 2^32)', o.seed);
    initParams(K, this.model.params, seed);
    this.optimizer = new AdamW(master, this.model.params.list, { ...NEOX_20B_OPTIMIZER, ...o.optimizer }, this.precision === 'fp16');
    this.schedule = new AnnealingLR({ ...NEOX_20B_SCHEDULE, ...o.schedule });
    this.scaler = this.precision === 'fp16' ? new DynamicLossScaler({ ...NEOX_20B_LOSS_SCALER, ...o.lossScaler }) : undefined;
    const rows = this.microBatchSize * this.seqLength;
    this.ids = K.allocIds(rows);
    this.targets = K.allocIds(rows);
  }

  /**
   * One optimizer step on `tokens`: gradientAccumulationSteps × microBatchSize sequences of seqLength + 1
   * ids, row-major; micro-batch g is rows [g·mbs, (g+1)·mbs). Inputs are the first seqLength ids of each
   * row, labels the last seqLength.
   */
  step(tokens: ArrayLike<number>): StepResult {
    const { microBatchSize: mbs, gradientAccumulationSteps: gas, seqLength: seq, model } = this;
    validateTokens(tokens, gas * mbs, seq + 1, model.cfg.vocabSize);
    this.assertParamsFinite();
    const lossScale = this.scaler?.scale ?? 1;
    const rows = mbs * seq;
    model.zeroGrads();
    let lossSum = 0;
    for (let g = 0; g < gas; g++) {
      for (let b = 0; b < mbs; b++) {
        const src = (g * mbs + b) * (seq + 1);
        for (let t = 0; t < seq; t++) {
          this.ids[b * seq + t] = tokens[src + t]!;
          this.targets[b * seq + t] = tokens[src + t + 1]!;
        }
      }
      lossSum += model.forward(this.ids, this.targets, mbs, seq);
      // d(loss · lossScale / GAS)/d(each row's loss), the loss being the mean over rows.
      model.backward(lossScale / gas / rows);
    }
    this.iteration += 1;
    const loss = lossSum / gas;
    const lr = this.schedule.lr();
    let sumSquares = 0;
    for (const p of model.params.list) sumSquares += model.K.sumSquares({ n: p.size, x: p.grad });
    if (!Number.isFinite(sumSquares)) {
      this.scaler?.update(true);
      return { loss, gradNorm: NaN, lr, lossScale, skipped: true };
    }
    const scaledNorm = Math.sqrt(sumSquares);
    this.optimizer.takeGrads(unscaleFactor(scaledNorm, lossScale, this.clipGrad));
    this.optimizer.step(lr, model.K);
    this.schedule.step();
    this.scaler?.update(false);
    return { loss, gradNorm: scaledNorm / lossScale, lr, lossScale, skipped: false };
  }

  /** Replaces the parameters (e.g. from a checkpoint) and the fp32 master copies. */
  setParams(values: Map<string, Float64Array | Float32Array>, where = 'parameters'): void {
    for (const p of this.model.params.list) {
      const v = values.get(p.name);
      if (!v) throw InputError.field(where, p.name, 'a tensor (missing)');
      if (v.length !== p.size) throw InputError.field(where, p.name, `${p.size} values [${p.shape.join(', ')}]`, `${v.length} values`);
      assertFinite(`${where}: ${p.name}`, v);
    }
    for (const p of this.model.params.list) copyIn(this.model.K, values.get(p.name)!, p.data);
    this.optimizer.loadMasterFromParams();
  }

  private assertParamsFinite(): void {
    for (const p of this.model.params.list) {
      if (!Number.isFinite(this.master.sumSquares({ n: p.size, x: p.data }))) assertFinite(`parameter ${p.name}`, p.data);
    }
  }
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw InputError.field('trainer', field, 'a positive integer', v);
  return v;
}
