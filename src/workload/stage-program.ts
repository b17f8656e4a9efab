import type { CommOp, Phase } from '../model/ops.js';
import type { Item, OpCatalog, PartOps } from './op-catalog.js';
import type { Plan } from './plan-types.js';
import { ProgramBuilder } from './program-builder.js';
import type { PipeAction } from './schedule.js';
import type { MemoryCategory, ModelChunk, TaskPart } from './task-graph.js';
import type { PartKey } from './zero.js';

/** One piece of a chunk the passes walk through: the embedding, one transformer layer, or the head. */
export interface PartDesc {
  key: PartKey;
  part: Extract<TaskPart, 'embedding' | 'layer' | 'head'>;
  ops: PartOps;
  layers?: readonly [number, number];
}

/** What data parallelism (ZeRO 0-3) adds to the passes and the step; see data-parallel.ts. */
export interface DpHooks {
  /** Before a part's forward, or its recompute + backward (ZeRO-3 parameter gathers). */
  beforePart(e: StageEmitter, p: PartDesc, phase: 'forward' | 'backward', vstage: number, mb: number): void;
  /** After a part's compute of `phase` (its last task is `last`): frees, gradient reductions. */
  afterPart(e: StageEmitter, p: PartDesc, phase: 'forward' | 'backward', vstage: number, mb: number, first: number, last: number): void;
  /** Gradient sync and the optimizer step at the end of the step. */
  step(e: StageEmitter): void;
}

interface Held {
  task?: number;
  category: MemoryCategory;
  bytes: number;
}

/**
 * Emits one pipeline stage's program: the schedule's forwards and backwards (with recompute) as compute
 * tasks over the model's op sequences, the TP all-reduces between them, the pipeline sends/recvs, and the
 * memory each allocates; then the data-parallel step.
 */
export class StageEmitter {
  readonly b: ProgramBuilder;
  /** Buffers kept from the forward until a backward frees them (see `hold`). */
  private readonly heldUntilBackward = new Map<string, Held[]>();
  /** Last compute task of each pass, `${vstage}/${mb}/forward|backward`. */
  private readonly passEnd = new Map<string, number>();
  /** The task that delivers the input of the next pass of (vstage, mb): its recv, or the all-gather after it. */
  private readonly received = new Map<string, number>();
  private readonly sync: boolean;
  private readonly scatterGather: boolean;

  constructor(
    readonly plan: Plan,
    readonly cat: OpCatalog,
    readonly pipe: number,
    readonly chunks: ModelChunk[],
    readonly totalChunks: number,
    builder: ProgramBuilder,
    readonly dp: DpHooks,
  ) {
    this.b = builder;
    this.sync = plan.p2p === 'sync-broadcast';
    // With sequence parallelism the message already is the rank's 1/tp shard: scatter/gather does not apply.
    this.scatterGather = plan.ppScatterGather === true && plan.tp > 1 && plan.sequenceParallel !== true;
  }

  run(actions: PipeAction[]): void {
    for (const a of actions) {
      if (a.op === 'forward') this.forward(a.vstage, a.mb);
      else if (a.op === 'backward') this.backward(a.vstage, a.mb);
      else this.p2p(a);
    }
    this.dp.step(this);
  }

  chunk(vstage: number): ModelChunk {
    return this.chunks.find((c) => c.vstage === vstage)!;
  }

  /** The parts of a chunk in forward order. */
  parts(vstage: number): PartDesc[] {
    const c = this.chunk(vstage);
    const out: PartDesc[] = [];
    if (c.hasEmbedding) out.push({ key: 'embedding', part: 'embedding', ops: this.cat.embedding });
    for (let l = c.firstLayer; l < c.endLayer; l++) out.push({ key: l, part: 'layer', ops: this.cat.layer, layers: [l, l + 1] });
    if (c.hasHead) out.push({ key: 'head', part: 'head', ops: this.cat.head });
    return out;
  }

  private forward(vstage: number, mb: number): void {
    const key = `${vstage}/${mb}`;
    const input = this.received.get(`${key}/act`);
    if (input !== undefined) this.b.computeWaitsFor(input);
    const parts = this.parts(vstage);
    const receivedInput = vstage > 0;
    parts.forEach((p, i) => {
      this.dp.beforePart(this, p, 'forward', vstage, mb);
      const { first, last } = this.items(p, 'forward', p.ops.forward, vstage, mb);
      // The first layer's saved input is the received activation, already held as a p2p buffer.
      const shared = i === 0 && receivedInput ? p.ops.savedTensor('input') : 0;
      const category: MemoryCategory = p.part === 'head' ? 'logits' : p.part === 'layer' && this.plan.recompute === 'full' ? 'checkpointed-activations' : 'stored-activations';
      // DeepSpeed's pipeline engine keeps the stage output (the fp16 logits on the last stage) until the backward.
      const kept = p.part === 'head' ? p.ops.written(headOutputName(p.ops)) : 0;
      this.hold(`${key}/${p.key}`, first, 'start', category, p.ops.stored - shared + kept);
      this.dp.afterPart(this, p, 'forward', vstage, mb, first, last);
    });
    // A chunk without layers (DeepSpeed's uneven partition can leave a stage empty) passes its input on:
    // its output is ready when the input has arrived.
    const end = parts.length > 0 ? this.b.lastCompute : input ?? -1;
    this.passEnd.set(`${key}/forward`, end);
    if (vstage < this.totalChunks - 1 && end >= 0) this.hold(key, end, 'end', 'p2p-buffers', this.cat.activationBytes);
  }

  private backward(vstage: number, mb: number): void {
    const key = `${vstage}/${mb}`;
    const input = this.received.get(`${key}/grad`);
    if (input !== undefined) this.b.computeWaitsFor(input);
    let last = -1;
    for (const p of this.parts(vstage).reverse()) {
      this.dp.beforePart(this, p, 'backward', vstage, mb);
      let first = -1;
      if (p.ops.recompute.length > 0) {
        const r = this.items(p, 'recompute', p.ops.recompute, vstage, mb);
        first = r.first;
        this.b.memory(r.first, 'start', 'recompute-working-set', p.ops.workingSet);
      }
      const bw = this.items(p, 'backward', p.ops.backward, vstage, mb);
      if (first < 0) first = bw.first;
      last = bw.last;
      if (p.ops.recompute.length > 0) this.b.memory(bw.last, 'end', 'recompute-working-set', -p.ops.workingSet);
      this.release(`${key}/${p.key}`, bw.last);
      if (p.part === 'head') {
        // The fp16 gradient of the logits (the backward of their fp32 cast) lives through the head's backward.
        const grad = p.ops.written('loss.logits-to-fp32.backward');
        this.b.memory(bw.first, 'start', 'logits', grad);
        this.b.memory(bw.last, 'end', 'logits', -grad);
      }
      this.dp.afterPart(this, p, 'backward', vstage, mb, first, bw.last);
    }
    // An empty chunk's input gradient is its output gradient (or, on an empty last stage, exists once its forward has).
    if (last < 0) last = input ?? this.passEnd.get(`${key}/forward`) ?? -1;
    if (last >= 0) this.release(key, last);
    this.passEnd.set(`${key}/backward`, last);
  }

  /** A part's items of one phase: compute runs and the TP all-reduces between them. */
  private items(p: PartDesc, phase: Phase, items: Item[], vstage: number, mb: number): { first: number; last: number } {
    let first = -1;
    let last = -1;
    for (const it of items) {
      const t = it.type === 'compute'
        ? this.b.compute({ phase, part: p.part, vstage, mb, layers: p.layers, opSeq: it.seq, label: this.cat.opSeqs[it.seq]!.name })
        : this.tpCollective(it.op, phase, p, vstage, mb);
      if (first < 0) first = t;
      last = t;
    }
    return { first, last };
  }

  /**
   * Megatron's TP all-reduce (with sequence parallelism: reduce-scatter or all-gather) runs between compute
   * kernels: the compute stream waits for it.
   */
  private tpCollective(op: CommOp, phase: Phase, p: PartDesc, vstage: number, mb: number): number {
    return this.b.communicate({
      kind: 'collective', stream: 'tp', phase, part: p.part, vstage, mb, layers: p.layers, comm: 'tp', collective: op.kind,
      bytes: op.bytes, dtype: op.dtype, key: `${phase}/v${vstage}/mb${mb}/${p.key}/${op.name}`, label: op.name,
      deps: this.b.lastCompute >= 0 ? [this.b.lastCompute] : [],
    }, { blocksCompute: true });
  }

  private p2p(a: PipeAction): void {
    const key = `${a.vstage}/${a.mb}`;
    const act = this.cat.activationBytes;
    const forward = a.op === 'recv-act' || a.op === 'send-act';
    const send = a.op === 'send-act' || a.op === 'send-grad';
    // Chunk boundary c > c+1 carries activations down and gradients up.
    const boundary = forward ? (send ? `${a.vstage}>${a.vstage + 1}` : `${a.vstage - 1}>${a.vstage}`) : (send ? `${a.vstage - 1}<${a.vstage}` : `${a.vstage}<${a.vstage + 1}`);
    const peer = forward === send ? 1 : -1;
    const phase = forward ? 'forward' : 'backward';
    const messages: { what: 'activation' | 'activation-grad' | 'attention-mask'; bytes: number; dtype: 'fp16' | 'bf16' | 'uint8' }[] = [
      { what: forward ? 'activation' : 'activation-grad', bytes: act, dtype: this.plan.precision },
    ];
    // gpt-neox passes (hidden, attention mask) through DeeperSpeed's pipeline; the bool mask [1, 1, s, s] has no gradient.
    if (forward && this.sync) messages.push({ what: 'attention-mask', bytes: this.plan.seqLength ** 2, dtype: 'uint8' });
    const producer = this.passEnd.get(`${key}/${phase}`);
    for (const m of messages) {
      // Megatron's scatter/gather: each TP rank moves 1/TP of the tensor between stages, then the TP group all-gathers it.
      const scatter = this.scatterGather && m.what !== 'attention-mask';
      const t = this.b.communicate({
        kind: send ? 'send' : 'recv', stream: 'pp', comm: 'pipe', phase, part: m.what,
        vstage: a.vstage, mb: a.mb, bytes: scatter ? m.bytes / this.plan.tp : m.bytes, dtype: m.dtype, peer, label: `${a.op} ${m.what}`,
        key: `${m.what}/${boundary}/mb${a.mb}`,
        deps: this.sync ? (this.b.lastCompute >= 0 ? [this.b.lastCompute] : []) : send && producer !== undefined && producer >= 0 ? [producer] : [],
      }, { blocksHost: this.sync });
      if (send && m.what === 'activation-grad') {
        // The input gradient exists from the backward until it has been sent.
        this.b.memory(t, 'start', 'p2p-buffers', m.bytes);
        this.b.memory(t, 'end', 'p2p-buffers', -m.bytes);
      } else if (!send) {
        this.hold(key, t, 'start', 'p2p-buffers', m.bytes);
      }
      if (send || m.what === 'attention-mask') continue;
      // mpu.gather_split_1d_tensor: a blocking all-gather on the default stream, so compute waits for it.
      const ready = !scatter ? t : this.b.communicate({
        kind: 'collective', stream: 'tp', comm: 'tp', collective: 'all-gather', phase, part: m.what, vstage: a.vstage, mb: a.mb,
        bytes: m.bytes, dtype: m.dtype, key: `${m.what}-gather/${boundary}/mb${a.mb}`, label: `all-gather ${m.what}`, deps: [t],
      }, { blocksCompute: true });
      this.received.set(`${key}/${forward ? 'act' : 'grad'}`, ready);
    }
  }

  /** Frees at the end of `task` what `hold` kept under `key`. */
  private release(key: string, task: number): void {
    for (const h of this.heldUntilBackward.get(key) ?? []) this.b.memory(task, 'end', h.category, -h.bytes);
    this.heldUntilBackward.delete(key);
  }

  /**
   * Allocates at a task boundary and keeps it until the backward that consumes it: `${vstage}/${mb}` for a
   * chunk's buffers (freed when its backward ends), `${vstage}/${mb}/${part}` for a part's saved tensors
   * (freed when that part's backward ends).
   */
  hold(key: string, task: number, at: 'start' | 'end', category: MemoryCategory, bytes: number): void {
    if (bytes === 0) return;
    this.b.memory(task, at, category, bytes);
    const list = this.heldUntilBackward.get(key) ?? [];
    list.push({ task, category, bytes });
    this.heldUntilBackward.set(key, list);
  }
}

/** The logits GEMM's name in the head op list (the output projection, or the tied embedding). */
function headOutputName(ops: PartOps): string {
  return ops.written('embed_out') > 0 ? 'embed_out' : 'embed_in.as-output';
}
