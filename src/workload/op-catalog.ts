import type { NeoXConfig } from '../model/config.js';
import { savedBytes } from '../model/activation-memory.js';
import { embeddingOps } from '../model/embedding-ops.js';
import { headOps } from '../model/head-ops.js';
import { layerOps } from '../model/layer-ops.js';
import { isCompute, opDims, type CommOp, type ComputeOp, type Dims, type Op, type OpOptions, type Phase } from '../model/ops.js';
import type { Plan } from './plan-types.js';
import type { OpSeq } from './task-graph.js';

/**
 * The model's op lists (src/model) cut into what the workload schedules: runs of compute ops between TP
 * sync points become one compute task's op sequence; each TP all-reduce becomes a collective task. Every
 * layer, micro-batch and rank shares the same sequences, so the compute model times each one once.
 */
export type Item = { type: 'compute'; seq: number } | { type: 'comm'; op: CommOp };

export interface PartOps {
  /** Items per phase, in launch order (the forward, the recompute before the backward, the backward). */
  forward: Item[];
  recompute: Item[];
  backward: Item[];
  /** Bytes the forward keeps for the backward (the distinct saved tensors). */
  stored: number;
  /** Bytes the recompute re-creates right before the backward that the forward did not keep (0 without recompute). */
  workingSet: number;
  /** Bytes of the tensors named `name` among the forward's saved tensors (0 if not kept). */
  savedTensor(name: string): number;
  /** Bytes the named op writes (for buffers the engine keeps, e.g. the fp16 logits). */
  written(name: string): number;
}

export class OpCatalog {
  readonly opSeqs: OpSeq[] = [];
  readonly dims: Dims;
  readonly layer: PartOps;
  readonly embedding: PartOps;
  readonly head: PartOps;
  private readonly byName = new Map<string, number>();

  constructor(cfg: NeoXConfig, plan: Plan) {
    const opts: OpOptions = {
      tp: plan.tp, microBatch: plan.microBatch, seqLength: plan.seqLength, recompute: plan.recompute,
      attentionDropout: plan.attentionDropout, hiddenDropout: plan.hiddenDropout, dtype: plan.precision,
      sequenceParallel: plan.sequenceParallel === true,
    };
    this.dims = opDims(cfg, opts);
    this.layer = this.part('layer', layerOps(cfg, opts));
    this.embedding = this.part('embedding', embeddingOps(cfg, opts));
    this.head = this.part('head', headOps(cfg, opts));
  }

  /** The index of an op sequence, added once per distinct name. */
  seq(name: string, ops: () => ComputeOp[]): number {
    let i = this.byName.get(name);
    if (i === undefined) {
      i = this.opSeqs.length;
      this.opSeqs.push({ name, ops: ops() });
      this.byName.set(name, i);
    }
    return i;
  }

  /**
   * Bytes of one pipeline activation message: the hidden state of one micro-batch, s·b·h at 16 bits; with
   * sequence parallelism each TP rank holds and sends its s/tp-token shard (s·b·h/tp).
   */
  get activationBytes(): number {
    return this.dims.spTokens * this.dims.h * this.dims.e;
  }

  private part(name: string, ops: Op[]): PartOps {
    const items = (phase: Phase): Item[] => {
      const out: Item[] = [];
      let run: ComputeOp[] = [];
      const flush = () => {
        if (run.length === 0) return;
        const ops = run;
        out.push({ type: 'compute', seq: this.seq(`${name}.${phase}: ${ops[0]!.name} … ${ops[ops.length - 1]!.name}`, () => ops) });
        run = [];
      };
      for (const op of ops) {
        if (op.phase !== phase) continue;
        if (isCompute(op)) run.push(op);
        else {
          flush();
          out.push({ type: 'comm', op });
        }
      }
      flush();
      return out;
    };
    const saves = (phase: Phase) => {
      const m = new Map<string, number>();
      for (const op of ops) if (isCompute(op) && op.phase === phase) for (const t of op.saves) m.set(t.name, t.bytes);
      return m;
    };
    const forwardSaves = saves('forward');
    // Selective recompute re-runs QKᵀ, which saves q and k again: those are the stored tensors, not new ones.
    let workingSet = 0;
    for (const [name, bytes] of saves('recompute')) if (!forwardSaves.has(name)) workingSet += bytes;
    return {
      forward: items('forward'), recompute: items('recompute'), backward: items('backward'),
      stored: savedBytes(ops, 'forward'), workingSet,
      savedTensor: (t) => forwardSaves.get(t) ?? 0,
      written: (n) => ops.filter((o): o is ComputeOp => isCompute(o) && o.name === n).reduce((a, o) => a + o.bytesWritten, 0),
    };
  }
}
