import {
  allReduce, BYTES, FLOPS_PER_ELEMENT as F, matmul, memoryOp, type ComputeKind, type ComputeOp, type Dims, type DType,
  type Op, type Phase, type SavedTensor,
} from './ops.js';

/**
 * Appends ops of one phase with the traffic conventions of ops.ts, so the layer/embedding/head builders
 * read like the PyTorch code they mirror. `keep` decides which saved tensors this phase really keeps
 * (activation checkpointing drops most of the forward's).
 */
export class OpBuilder {
  readonly ops: Op[] = [];
  private readonly e: number;

  constructor(readonly d: Dims, readonly phase: Phase, private readonly keep: (saved: string) => boolean = () => true) {
    this.e = d.e;
  }

  private push(op: ComputeOp): void {
    op.saves = op.saves.filter((t) => this.keep(t.name));
    this.ops.push(op);
  }

  /** A tensor of `elements` activation elements (or of another dtype) kept for the backward. */
  saved(name: string, elements: number, dtype: DType = this.d.dtype): SavedTensor {
    return { name, bytes: elements * BYTES[dtype] };
  }

  gemm(name: string, m: number, n: number, k: number, term: 'dense' | 'logits', saves: SavedTensor[] = []): void {
    this.push(matmul(name, 'gemm', this.phase, m, n, k, 1, this.d.dtype, { term, saves }));
  }

  /** One attention matmul per (sequence, local head): batch = b · heads / TP. */
  bmm(name: string, m: number, n: number, k: number, saves: SavedTensor[] = []): void {
    this.push(matmul(name, 'bmm', this.phase, m, n, k, this.d.b * this.d.heads, this.d.dtype, { term: 'attention', saves }));
  }

  memory(
    name: string, kind: Exclude<ComputeKind, 'gemm' | 'bmm'>, elements: number,
    t: { flops: number; read: number; write: number; kernels?: number; saves?: SavedTensor[]; dtype?: DType },
  ): void {
    this.push(memoryOp(name, kind, this.phase, t.dtype ?? this.d.dtype, elements, t.flops, t.read, t.write, {
      kernels: t.kernels ?? 1, saves: t.saves ?? [],
    }));
  }

  /** out = Σ inputs, elementwise (residual adds; autograd's sum of gradients reaching one tensor). */
  add(name: string, elements: number, inputs = 2, saves: SavedTensor[] = []): void {
    const kernels = inputs - 1;
    this.memory(name, 'elementwise', elements, {
      flops: kernels * elements, read: 2 * kernels * elements * this.e, write: kernels * elements * this.e, kernels, saves,
    });
  }

  /** y = x + bias, bias broadcast over `rows`. */
  biasAdd(name: string, rows: number, cols: number): void {
    this.memory(name, 'elementwise', rows * cols, { flops: rows * cols, read: this.e * (rows * cols + cols), write: this.e * rows * cols });
  }

  /** A contiguous copy (transpose/permute `.contiguous()`, torch.cat). */
  copy(name: string, elements: number, kernels = 1): void {
    this.memory(name, 'elementwise', elements, { flops: 0, read: this.e * elements, write: this.e * elements, kernels });
  }

  /** PyTorch fused dropout: writes the output and a 1-byte keep-mask, which backward needs. */
  dropout(name: string, elements: number): void {
    this.memory(name, 'elementwise', elements, {
      flops: 2 * elements, read: this.e * elements, write: (this.e + 1) * elements,
      saves: [{ name: `${name}.mask`, bytes: elements }],
    });
  }

  dropoutBackward(name: string, elements: number): void {
    this.memory(`${name}.backward`, 'elementwise', elements, { flops: 2 * elements, read: (this.e + 1) * elements, write: this.e * elements });
  }

  /** torch.nn.LayerNorm forward: also writes fp32 mean and rstd per row (8 bytes a token). */
  layernorm(name: string, rows: number, width: number, savesInput: string): void {
    const n = rows * width;
    this.memory(name, 'layernorm', n, {
      flops: F.layernormForward * n, read: this.e * (n + 2 * width), write: this.e * n + 8 * rows,
      saves: [this.saved(savesInput, n)],
    });
  }

  /** Input gradient kernel plus the gamma/beta gradient kernel, each reading the gradient and the input. */
  layernormBackward(name: string, rows: number, width: number): void {
    const n = rows * width;
    this.memory(`${name}.backward`, 'layernorm', n, {
      flops: F.layernormBackward * n, read: this.e * (4 * n + width) + 8 * rows, write: this.e * (n + 2 * width), kernels: 2,
    });
  }

  /** Bias gradient: the output gradient summed over tokens. */
  biasGrad(name: string, rows: number, cols: number): void {
    this.memory(`${name}.bias.grad`, 'reduction', rows * cols, { flops: rows * cols, read: this.e * rows * cols, write: this.e * cols });
  }

  /** AccumulateGrad: param.grad += fresh grad for `tensors` tensors of `numel` elements in total. */
  accumulate(name: string, numel: number, tensors: number): void {
    this.memory(`${name}.grad-accumulate`, 'grad-accumulate', numel, { flops: numel, read: 2 * this.e * numel, write: this.e * numel, kernels: tensors });
  }

  /** A TP all-reduce; dropped when TP = 1, where Megatron's regions are identities. */
  allReduce(name: string, elements: number, dtype: DType = this.d.dtype): void {
    if (this.d.tp > 1) this.ops.push(allReduce(name, this.phase, elements * BYTES[dtype], dtype));
  }

  /**
   * Where a tensor-parallel region ends (Megatron's g after a row-parallel GEMM): `${base}.all-reduce`, or
   * with sequence parallelism `${base}.reduce-scatter` to s/tp tokens. `elements`: the whole tensor.
   */
  tpReduce(base: string, elements: number): void {
    if (this.d.tp < 2) return;
    const kind = this.d.sp ? 'reduce-scatter' : 'all-reduce';
    this.ops.push(allReduce(`${base}.${kind}`, this.phase, elements * this.e, this.d.dtype, kind));
  }

  /** Sequence parallelism only: an all-gather of s/tp-token shards into the whole tensor of `elements`. */
  spGather(name: string, elements: number): void {
    if (this.d.sp) this.ops.push(allReduce(name, this.phase, elements * this.e, this.d.dtype, 'all-gather'));
  }
}
