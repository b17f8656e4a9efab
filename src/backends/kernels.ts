/**
 * The one kernel interface of the reference trainer. Every backend (js reference, wasm SIMD, webgpu)
 * implements `Kernels`; the trainer's layers do all their arithmetic through it, so a layer never knows
 * which backend or which precision it runs on. The full numeric spec is docs/numerics.md.
 *
 * ## Buffers
 * A buffer is a row-major `Float64Array` (dtype f64) or `Float32Array` (f32, f16) *view*. A backend owns
 * allocation (`alloc`), so a WASM backend can hand out views into its linear memory and read
 * `buf.byteOffset` as the pointer. Kernels accept any view of the right array type (sub-views made with
 * `subarray` included); matrices carry their row stride (`ld*`) explicitly.
 *
 * ## Precision semantics (the dtype of a backend variant)
 * - `compute precision` — f64 for `f64`, f32 for `f32` and `f16`. Every arithmetic op (+ − × ÷ √ and each
 *   transcendental) is rounded to compute precision before the next op uses it.
 * - `storage precision` — what a kernel writes to its outputs: f64, f32, or IEEE binary16 for `f16`.
 *   An f16 buffer is a Float32Array holding binary16 values exactly (every binary16 value is a float32).
 *   So an f16 kernel reads binary16, computes in f32, and rounds each output once to binary16
 *   (round-to-nearest-even) — what a fused CUDA kernel with fp16 in/out and fp32 math does.
 * - Statistics that are not tensors of the model (LayerNorm mean/rstd, per-row losses) are written in
 *   compute precision, never rounded to binary16 (PyTorch keeps them in fp32 for fp16 inputs).
 * - Host scalars (`sum`, `sumSquares`) are accumulated in f64 by every variant.
 * - `accumulate: true` means `out = store(out + store(fresh))`, with the addition in compute precision:
 *   the fresh result is rounded to storage first, as when autograd adds a new gradient tensor to `.grad`.
 *
 * ## Exactness contract
 * Each kernel's doc states its *reference order*: the order of every reduction and the rounding of every
 * op. A backend with `exact: true` (the js backends) follows it bit for bit. Other backends (`exact:
 * false`) may change only what the kernel doc marks **reorderable** (e.g. the order of a dot product's
 * sum: SIMD lanes, blocking, FMA), and must still be deterministic: the same inputs give the same bits on
 * every run and for every thread count (fix the partition of a reduction by problem size, never by thread
 * count; combine partial sums in a fixed order). Everything not marked reorderable is exact on every backend.
 */

/** Buffer semantics of a backend variant; see the header. */
export type DType = 'f64' | 'f32' | 'f16';
export type FloatBuf = Float64Array | Float32Array;
/** GELU of the 20B run (tanh form, bias_gelu constants) or the exact erf form (HF "gelu"). */
export type GeluKind = 'tanh' | 'erf';

/**
 * Causal self-attention kernels: 'materialized' keeps the probabilities for the backward (the 2022 run's
 * path, every backend has it); 'flash' keeps O(seq) statistics and recomputes them (a backend lists it in
 * `attentionVariants` when it has it; its numerics are its own, see docs/numerics.md).
 */
export type AttentionVariant = 'materialized' | 'flash';

/**
 * One causal scaled-dot-product attention over NeoX's fused QKV activations after rotary: row r = b·seq + t,
 * head h: q at `qkv[(r·heads + h)·3·headDim + d]`, k at `+ headDim`, v at `+ 2·headDim` (the per-head
 * interleaved [batch·seq, heads, 3, headDim] layout); the context is [batch·seq, heads·headDim].
 */
export interface AttentionArgs {
  batch: number;
  seq: number;
  heads: number;
  headDim: number;
  /** Multiplies q·kᵀ (and, in the backward, dq and dk): 1/√headDim. Rounded to compute precision first. */
  scale: number;
  /** Default 'materialized'. */
  variant?: AttentionVariant;
  qkv: FloatBuf;
  ctx: FloatBuf;
  /** What the forward keeps for the backward: `attentionSavedSize` elements, from this backend's `alloc`. */
  saved: FloatBuf;
}

/** Matrix products. Shapes are after the op: C is m×n, the inner dimension is k. */
export interface GemmArgs {
  /** 'nn': C = A·B (A m×k, B k×n); 'nt': C = A·Bᵀ (B stored n×k); 'tn': C = Aᵀ·B (A stored k×m). */
  op: 'nn' | 'nt' | 'tn';
  m: number;
  n: number;
  k: number;
  a: FloatBuf;
  lda: number;
  b: FloatBuf;
  ldb: number;
  c: FloatBuf;
  ldc: number;
  /** Multiplies the dot product (attention's 1/√head_dim). Default 1 (no multiply, no rounding). */
  alpha?: number;
  /** Per-column bias added to the scaled dot product before storage rounding (F.linear with bias). */
  bias?: FloatBuf;
  /** C = store(C + store(result)) instead of C = store(result). */
  accumulate?: boolean;
  /** Batched form: `batch` independent products; operand i starts at element i·stride of each view. */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

export interface Kernels {
  /** e.g. 'js-f64', 'wasm-f32'. */
  readonly name: string;
  readonly dtype: DType;
  /** true: bit-identical to the reference order of every kernel (see the header). */
  readonly exact: boolean;

  /** A zeroed buffer of n elements that this backend can compute on (Float64Array for f64, else Float32Array). */
  alloc(n: number): FloatBuf;
  /** A zeroed Int32Array (token ids, targets) this backend can read. */
  allocIds(n: number): Int32Array;

  /**
   * Matrix product. Reference order, per output (batch, i, j): `s = 0; for p = 0..k-1: s = s + a·b`
   * (product rounded, then sum rounded; no FMA); then `s = s·alpha` if alpha ≠ 1; then `s = s + bias[j]`;
   * then store (with `accumulate` as in the header). **Reorderable:** the order of the k-sum (and FMA use),
   * never across the alpha/bias/accumulate steps. C must not alias A or B.
   */
  gemm(g: GemmArgs): void;

  /**
   * y = LayerNorm(x)·gamma + beta over rows of n contiguous elements. Reference, per row:
   * `mean = (Σ_j x_j)/n`, `var = (Σ_j (x_j−mean)²)/n` (two-pass, ascending j), `rstd = 1/√(var+eps)`,
   * `y_j = ((x_j−mean)·rstd)·gamma_j + beta_j`. Writes mean[row], rstd[row] in compute precision.
   * **Reorderable:** the two j-sums. y may alias x.
   */
  layerNorm(a: {
    rows: number; n: number; x: FloatBuf; gamma: FloatBuf; beta: FloatBuf; eps: number;
    y: FloatBuf; mean: FloatBuf; rstd: FloatBuf;
  }): void;

  /**
   * LayerNorm backward. Reference, per row: `xh_j = (x_j−mean)·rstd`, `g_j = dy_j·gamma_j`,
   * `A = Σ_j g_j`, `B = Σ_j g_j·xh_j` (ascending j), `dx_j = ((g_j − A/n) − xh_j·(B/n))·rstd`.
   * Parameter grads always accumulate: `dgamma_j += Σ_rows dy_j·xh_j`, `dbeta_j += Σ_rows dy_j`
   * (rows ascending, in compute precision, stored once, then accumulated as in the header).
   * `accumulateDx` adds dx into an existing gradient (the residual stream). **Reorderable:** the j-sums
   * and the row sums.
   */
  layerNormBackward(a: {
    rows: number; n: number; x: FloatBuf; gamma: FloatBuf; mean: FloatBuf; rstd: FloatBuf;
    dy: FloatBuf; dx: FloatBuf; dgamma: FloatBuf; dbeta: FloatBuf; accumulateDx?: boolean;
  }): void;

  /**
   * y = gelu(x + bias) elementwise over rows×cols (bias per column, optional): the fused bias_gelu.
   * `u = x + bias_j` (rounded), then tanh form `(u·0.5)·(1 + tanh((0.79788456·u)·(1 + (0.044715·u)·u)))`
   * or erf form `(u·0.5)·(1 + erf(u·0.7071067811865476))`, each op rounded in that order. y may alias x.
   */
  gelu(a: { rows: number; cols: number; x: FloatBuf; bias?: FloatBuf; y: FloatBuf; kind: GeluKind }): void;

  /**
   * dx = dy · gelu'(x + bias), the exact derivative of the forward formula above (docs/numerics.md gives
   * each op). dx may alias dy.
   */
  geluBackward(a: {
    rows: number; cols: number; x: FloatBuf; bias?: FloatBuf; dy: FloatBuf; dx: FloatBuf; kind: GeluKind;
  }): void;

  /** y_ij = y_ij + bias_j, in place (a separate bias add, as after a row-parallel linear). */
  addBias(a: { rows: number; cols: number; y: FloatBuf; bias: FloatBuf }): void;

  /** db_j += Σ_i dy_ij (rows ascending, compute precision, stored, then accumulated). **Reorderable:** the row sum. */
  biasGrad(a: { rows: number; cols: number; dy: FloatBuf; db: FloatBuf }): void;

  /** y = a + b elementwise; with accumulate, y = store(y + store(a + b)). y may alias a or b. */
  add(a: { n: number; a: FloatBuf; b: FloatBuf; y: FloatBuf; accumulate?: boolean }): void;

  /** y = x · alpha (alpha rounded to compute precision first). y may alias x. */
  scale(a: { n: number; x: FloatBuf; alpha: number; y: FloatBuf }): void;

  /** y = store(x): a copy, and a cast when x has more precision than this backend stores. */
  copy(a: { n: number; x: FloatBuf; y: FloatBuf }): void;

  /** y = x rounded to IEEE binary16 (round-to-nearest-even, overflow → ±Inf), whatever the backend dtype. */
  roundF16(a: { n: number; x: FloatBuf; y: FloatBuf }): void;

  /** y[i] = value. */
  fill(a: { n: number; y: FloatBuf; value: number }): void;

  /**
   * GPT-NeoX rotary embedding with half rotation (rotate_half), in place on the first `rotDims` of each
   * head. Row r is position `r % seq`; head h of row r starts at `r·ld + h·headStride`. With half = rotDims/2
   * and, for j < half, c = cos[pos·half + j], s = sin[pos·half + j]:
   * forward `x_j ← x_j·c − x_{j+half}·s`, `x_{j+half} ← x_{j+half}·c + x_j·s`;
   * inverse (the backward, Rᵀ) `x_j ← x_j·c + x_{j+half}·s`, `x_{j+half} ← x_{j+half}·c − x_j·s`.
   * Each product rounded, then the sum; cos/sin are [seq, half] tables in compute precision.
   */
  rotary(a: {
    rows: number; seq: number; heads: number; headStride: number; ld: number; rotDims: number;
    x: FloatBuf; cos: FloatBuf; sin: FloatBuf; inverse?: boolean;
  }): void;

  /**
   * Causal softmax over `count` row-major t×t score matrices: row i uses columns j ≤ i, the rest are
   * written 0. Reference per row: `mx = max_{j≤i} x_j`, `e_j = exp(x_j − mx)`, `S = Σ_{j≤i} e_j` ascending,
   * `y_j = e_j / S`. **Reorderable:** the sum S (max is exact anyway). y may alias x.
   */
  causalSoftmax(a: { count: number; t: number; x: FloatBuf; y: FloatBuf }): void;

  /**
   * Causal softmax backward: `D = Σ_{j≤i} y_j·dy_j` ascending, `dx_j = y_j·(dy_j − D)` for j ≤ i, else 0.
   * **Reorderable:** the sum D. dx may alias dy.
   */
  causalSoftmaxBackward(a: { count: number; t: number; y: FloatBuf; dy: FloatBuf; dx: FloatBuf }): void;

  /**
   * Per-row cross entropy over `v` logits (Megatron's vocab_parallel_cross_entropy form):
   * `mx = max_j x_j`, `S = Σ_j exp(x_j − mx)` ascending, `loss = log(S) − (x_target − mx)`, written to
   * losses[row] in compute precision. Targets must be in [0, v). **Reorderable:** the sum S.
   */
  crossEntropy(a: { rows: number; v: number; logits: FloatBuf; targets: Int32Array; losses: FloatBuf }): void;

  /**
   * dlogits = (softmax − onehot(target))·gradScale, with softmax `p_j = exp(x_j − mx)/S` recomputed exactly
   * as the forward does, then `(p_j − [j = target])·gradScale` (gradScale rounded to compute precision).
   * **Reorderable:** the sum S (it must then equal the forward's S).
   */
  crossEntropyBackward(a: {
    rows: number; v: number; logits: FloatBuf; targets: Int32Array; gradScale: number; dlogits: FloatBuf;
  }): void;

  /** y[i, :] = table[ids[i], :] for rows i, each of n elements. ids must be in range. */
  embedding(a: { rows: number; n: number; ids: Int32Array; table: FloatBuf; y: FloatBuf }): void;

  /**
   * dtable[v, :] += Σ_{i: ids[i] = v} dy[i, :], the sum over i ascending in compute precision, stored once,
   * then accumulated (rows of dtable that no id hits are untouched). **Reorderable:** none (order by i).
   */
  embeddingBackward(a: { rows: number; n: number; ids: Int32Array; dy: FloatBuf; dtable: FloatBuf }): void;

  /**
   * One AdamW update (FusedAdam ADAM_MODE_1, decoupled weight decay), in place on p, m, v, elementwise:
   * `m = β1·m + (1−β1)·g`; `v = β2·v + ((1−β2)·g)·g`; `u = (m/bc1)/(√(v/bc2) + eps) + wd·p`; `p = p − lr·u`,
   * where bc1 = 1 − β1^step and bc2 = 1 − β2^step are evaluated in f64 and rounded, and every constant
   * (β1, β2, 1−β1, 1−β2, eps, wd, lr) is rounded to compute precision first. Each op rounded in the
   * order written. Nothing is reorderable.
   */
  adamw(a: {
    n: number; p: FloatBuf; g: FloatBuf; m: FloatBuf; v: FloatBuf;
    lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number;
  }): void;

  /** The attention variants this backend implements ('materialized' always). */
  readonly attentionVariants: readonly AttentionVariant[];

  /** Elements of the `saved` buffer that `attention` fills and `attentionBackward` reads. */
  attentionSavedSize(a: { batch: number; seq: number; heads: number; headDim: number; variant?: AttentionVariant }): number;

  /**
   * ctx = causal attention of the (rotated) qkv. Reference order ('materialized'), per sequence and head,
   * the batched GEMMs and the causal softmax above: `S = gemm(q·kᵀ, alpha = scale)` (each score stored),
   * `P = causalSoftmax(S)` (stored; j > i written 0), `ctx = gemm(P·v)` over all seq keys. **Reorderable:**
   * the GEMM k-sums and the softmax sum S, as in those kernels (the masked terms are exact zeros, so a backend
   * may skip them). 'flash': see docs/numerics.md.
   */
  attention(a: AttentionArgs): void;

  /**
   * dqkv = ∂L/∂qkv (written, not accumulated) from dctx and what `attention` saved (it may be overwritten).
   * Reference order ('materialized'): `dP = gemm(dctx·vᵀ)`, `dv = gemm(Pᵀ·dctx)`,
   * `dS = causalSoftmaxBackward(P, dP)`, `dq = gemm(dS·k)`, `dk = gemm(dSᵀ·q)`, each stored; then dq and dk
   * are multiplied by scale in a separate op (`scale`, stored again), as autograd does for baddbmm's alpha.
   * **Reorderable:** the GEMM k-sums and the softmax backward's sum D.
   */
  attentionBackward(a: AttentionArgs & { dctx: FloatBuf; dqkv: FloatBuf }): void;

  /** Σ x_i in f64, ascending i. **Reorderable** (deterministically). */
  sum(a: { n: number; x: FloatBuf }): number;

  /** Σ x_i² in f64 (each square in f64), ascending i. Non-finite when any x_i is. **Reorderable** (deterministically). */
  sumSquares(a: { n: number; x: FloatBuf }): number;
}

/** Creates a backend variant for one dtype. Backends register one of these (see registry.ts). */
export type KernelsFactory = (dtype: DType) => Kernels | Promise<Kernels>;
