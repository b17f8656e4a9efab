import type { NeoXConfig } from '../model/config.js';
import { LAYER_INPUT } from '../model/layer-ops.js';
import { addLinkBytes, collectiveFloor } from '../sim/bounds/collective-floor.js';
import { idleCollectives } from '../sim/bounds/step-floor.js';
import type { Machine } from '../sim/executor/executor.js';
import { runtimeReserve, stageReserves } from '../sim/memory/runtime-reserve.js';
import { buildTaskGraph, tiedStages } from '../workload/build-graph.js';
import { OpCatalog, type Item, type PartOps } from '../workload/op-catalog.js';
import type { Plan } from '../workload/plan-types.js';
import { buildRankMap, type RankMap } from '../workload/rank-map.js';
import { stageSchedule, type PipeAction } from '../workload/schedule.js';
import { COLLECTIVES, COMM, KIND, type CollectiveKind, type ModelChunk, type RankProgram } from '../workload/task-graph.js';

/**
 * Cheap lower bounds for screening thousands of plans before any is built in full or simulated. Each is
 * assembled from the pieces the workload builds a graph from, and each is a bound the simulator cannot beat:
 *
 * Step time — (1) the compute stream of a stage runs, for every micro-batch, the forward and the
 * recompute + backward op sequences of each of its model chunks, and waits for every tensor-parallel
 * all-reduce between them (Megatron's all-reduce blocks compute; each takes at least its floor alone on the
 * network). Stage s cannot start before chunks 0 … s−1 have run micro-batch 0 forward, and the step cannot
 * end before they have run the last micro-batch backward after it. So
 *   step ≥ max over s of  Σ_{c<s} F_c  +  GAS · Σ_{c on s} (F_c + B_c)  +  max(Σ_{c<s} B_c, DP_s),
 * where DP_s is the floor of the stage's step-level data-parallel collectives, which follow its last backward:
 * the larger of one group's serial floor and the link volume of all its groups together.
 * (2) the data-parallel collectives run one after another on their stream, each at least its floor, and
 *     every link carries the bytes they put on it at most at its capacity.
 *
 * Peak memory — a stage holds at least its static memory (model states, read off a small graph of the same
 * layout) and the largest runtime reserve of its ranks (CUDA context, cuBLAS workspaces, NCCL buffers of the
 * communicators that small graph uses, on the plan's placement: the amount the tracker adds); at each
 * backward also what every forward not yet backpropagated keeps (saved tensors, pipeline buffers, logits),
 * the recompute working set, and with ZeRO 0/1 the fp16 gradients of the chunks already backpropagated; at
 * the optimizer step with ZeRO 0/1 every fp16 gradient and the largest staging buffer.
 */
export interface QuickBounds {
  /** A lower bound on the step time. */
  stepSeconds: number;
  memory: MemoryBound;
}

export interface MemoryBound {
  bytes: number;
  stage: number;
  /** Resident model states counted in the bound (params, grads, optimizer states). */
  modelStateBytes: number;
  /** The stage's runtime reserve (CUDA context, cuBLAS workspaces, NCCL buffers). */
  runtimeBytes: number;
  /** Activations and buffers counted in the bound. */
  activationBytes: number;
  /** Micro-batches in flight on that stage where the bound is reached (0: at the optimizer step). */
  inFlight: number;
}

interface Layout {
  chunks: ModelChunk[];
  /** The small graph's programs: which communicators each stage uses. */
  programs: RankProgram[];
  staticBytes: number[];
  params: number[];
  largestBucket: number[];
  /** Data-parallel collectives of each stage: in every micro-batch (counted on micro-batch 0) and once per step. */
  dpTraffic: DpTraffic[][];
}

interface DpCost {
  capacity: Float64Array;
  /** Bytes per link of one micro-batch's and of the step-level data-parallel collectives, all groups. */
  linkPerMicroBatch: Float64Array;
  linkPerStep: Float64Array;
  /** Per stage, floors of its data-parallel stream's work per micro-batch and per step (fastest group). */
  stages: { perMicroBatch: number; perStep: number }[];
  /** Per stage, the link volume of all its groups' step-level collectives (links shared between groups). */
  stepVolume: number[];
}

interface DpTraffic {
  op: CollectiveKind;
  bytes: number;
  perMicroBatch: number;
  perStep: number;
}

export class QuickBounder {
  private readonly catalogs = new Map<string, OpCatalog>();
  private readonly layouts = new Map<string, Layout>();
  private readonly schedules = new Map<string, PipeAction[]>();
  private readonly tpGroups = new Map<string, (readonly number[])[]>();
  private readonly tpFloors = new Map<string, number>();
  private readonly seqSeconds = new Map<OpCatalog, number[]>();
  private readonly rankMaps = new Map<string, RankMap>();
  private readonly dpCosts = new Map<string, DpCost>();
  private readonly reserves = new Map<string, number[]>();

  constructor(readonly cfg: NeoXConfig, readonly machine: Machine) {}

  bounds(plan: Plan): QuickBounds {
    return { stepSeconds: Math.max(this.chainBound(plan), this.dpBound(plan)), memory: this.memoryBound(plan) };
  }

  /**
   * Data-parallel collectives, two ways: they run one after another on the stage's data-parallel stream
   * (FIFO), each for at least its floor alone on the network; and every byte NCCL's plan puts on a link must
   * cross it at most at its capacity. Micro-batch 0's traffic is the least any micro-batch carries (ZeRO 2/3
   * reduce or gather in every micro-batch; ZeRO 0 with overlap only in the last).
   */
  dpBound(plan: Plan): number {
    if (plan.dp < 2) return 0;
    const t = this.dpCost(plan);
    let serial = 0;
    for (const s of t.stages) serial = Math.max(serial, plan.gradAccumSteps * s.perMicroBatch + s.perStep);
    let volume = 0;
    for (let l = 0; l < t.capacity.length; l++) volume = Math.max(volume, (plan.gradAccumSteps * t.linkPerMicroBatch[l]! + t.linkPerStep[l]!) / t.capacity[l]!);
    return Math.max(serial, volume);
  }

  private dpCost(plan: Plan): DpCost {
    const key = `${this.layoutKey(plan)}|${plan.rankOrder.join(',')}`;
    let c = this.dpCosts.get(key);
    if (c) return c;
    const { dpTraffic } = this.layout(plan);
    const map = this.rankMap(plan);
    const colls = idleCollectives(this.machine);
    const capacity = colls.network.capacity;
    c = {
      capacity,
      linkPerMicroBatch: new Float64Array(capacity.length),
      linkPerStep: new Float64Array(capacity.length),
      stages: dpTraffic.map(() => ({ perMicroBatch: Infinity, perStep: Infinity })),
      stepVolume: dpTraffic.map(() => 0),
    };
    const stepBytes = dpTraffic.map(() => new Float64Array(capacity.length));
    for (const members of map.groups[COMM.dp]!.members) {
      const gpus = Object.freeze(Array.from(members, (r) => map.gpuOfRank[r]!));
      const s = map.coords.pipe[members[0]!]!;
      let perMicroBatch = 0;
      let perStep = 0;
      for (const t of dpTraffic[s]!) {
        const cp = colls.plan({ op: t.op, ranks: gpus, bytes: t.bytes, root: 0 });
        const floor = collectiveFloor(cp, capacity);
        perMicroBatch += t.perMicroBatch * floor;
        perStep += t.perStep * floor;
        addLinkBytes(cp, c.linkPerMicroBatch, t.perMicroBatch);
        addLinkBytes(cp, c.linkPerStep, t.perStep);
        addLinkBytes(cp, stepBytes[s]!, t.perStep);
      }
      const st = c.stages[s]!;
      // The least over the stage's groups: every rank's stream is a bound, the fastest one included.
      if (perMicroBatch + perStep < st.perMicroBatch + st.perStep) Object.assign(st, { perMicroBatch, perStep });
    }
    for (const st of c.stages) if (!Number.isFinite(st.perMicroBatch)) Object.assign(st, { perMicroBatch: 0, perStep: 0 });
    c.stepVolume = stepBytes.map((b) => b.reduce((worst, x, l) => Math.max(worst, x / capacity[l]!), 0));
    this.dpCosts.set(key, c);
    return c;
  }

  chainBound(plan: Plan): number {
    const cat = this.catalog(plan);
    const { chunks } = this.layout(plan);
    const items = (list: Item[]) => list.reduce((t, it) => t + (it.type === 'compute' ? this.seconds(cat, it.seq) : this.tpFloor(plan, it.op.bytes, it.op.kind)), 0);
    const part = (p: PartOps) => ({ f: items(p.forward), b: items(p.recompute) + items(p.backward) });
    const emb = part(cat.embedding);
    const layer = part(cat.layer);
    const head = part(cat.head);
    const fwd = chunks.map((c) => (c.endLayer - c.firstLayer) * layer.f + (c.hasEmbedding ? emb.f : 0) + (c.hasHead ? head.f : 0));
    const bwd = chunks.map((c) => (c.endLayer - c.firstLayer) * layer.b + (c.hasEmbedding ? emb.b : 0) + (c.hasHead ? head.b : 0));
    // Step-level data-parallel collectives (ZeRO reduce-scatter / all-gather, ZeRO 0 all-reduce) start after
    // the stage's last backward, on its data-parallel stream, while the stages before it drain.
    const cost = plan.dp > 1 ? this.dpCost(plan) : undefined;
    const dpStep = cost ? cost.stages.map((st, s) => Math.max(st.perStep, cost.stepVolume[s]!)) : chunks.map(() => 0);
    let best = 0;
    for (let s = 0; s < plan.pp; s++) {
      let fill = 0;
      let drain = 0;
      for (let c = 0; c < s; c++) {
        fill += fwd[c]!;
        drain += bwd[c]!;
      }
      let own = 0;
      chunks.forEach((c, i) => {
        if (c.pipe === s) own += fwd[i]! + bwd[i]!;
      });
      best = Math.max(best, fill + plan.gradAccumSteps * own + Math.max(drain, dpStep[s] ?? 0));
    }
    return best;
  }

  memoryBound(plan: Plan): MemoryBound {
    const cat = this.catalog(plan);
    const layout = this.layout(plan);
    const chunks = layout.chunks;
    const act = cat.activationBytes;
    const input = cat.layer.savedTensor(LAYER_INPUT);
    const headKept = cat.head.written('embed_out') + cat.head.written('embed_in.as-output');
    // What one forward of a chunk keeps until its backward: saved tensors (the first layer's input is the
    // received activation, held once as its pipeline buffer), the logits on the head, the output buffer.
    const held = chunks.map((c) => {
      const layers = c.endLayer - c.firstLayer;
      const received = c.vstage > 0 ? act - (layers > 0 ? input : 0) : 0;
      return layers * cat.layer.stored + (c.hasEmbedding ? cat.embedding.stored : 0) + (c.hasHead ? cat.head.stored + headKept : 0) +
        received + (c.vstage < chunks.length - 1 ? act : 0);
    });
    const recomputing = plan.recompute !== 'none' ? cat.layer.workingSet : 0;
    const gradsOf = (c: ModelChunk) => (plan.zeroStage <= 1 ? 2 * c.paramsPerRank : 0);
    const reserves = this.stageReserves(plan);
    let best: MemoryBound = { bytes: 0, stage: 0, modelStateBytes: 0, runtimeBytes: 0, activationBytes: 0, inFlight: 0 };
    const consider = (b: Omit<MemoryBound, 'runtimeBytes'>) => {
      const runtimeBytes = reserves[b.stage]!;
      if (b.bytes + runtimeBytes > best.bytes) best = { ...b, bytes: b.bytes + runtimeBytes, runtimeBytes };
    };
    for (let s = 0; s < plan.pp; s++) {
      const fixed = layout.staticBytes[s]!;
      // Walk the schedule: forwards add what they keep; at each backward's recompute of its last layer, the
      // head's share of that micro-batch is gone, the working set is there, and with ZeRO 0/1 the fp16
      // gradients of every chunk that has run a backward before.
      let live = 0;
      let inFlight = 0;
      let grads = 0;
      const withGrads = new Set<number>();
      for (const a of this.schedule(plan, s)) {
        const c = chunks[a.vstage]!;
        if (a.op === 'forward') {
          live += held[a.vstage]!;
          inFlight++;
        } else if (a.op === 'backward') {
          const layers = c.endLayer - c.firstLayer;
          const now = live - (c.hasHead ? cat.head.stored + headKept : 0) + (layers > 0 ? recomputing : 0);
          consider({ bytes: fixed + grads + Math.max(live, now), stage: s, modelStateBytes: fixed + grads, activationBytes: Math.max(live, now), inFlight });
          if (!withGrads.has(a.vstage)) {
            withGrads.add(a.vstage);
            grads += gradsOf(c);
          }
          live -= held[a.vstage]!;
          inFlight--;
        }
      }
      // Optimizer step (ZeRO 0/1): every fp16 gradient, plus the largest staging buffer.
      const allGrads = plan.zeroStage <= 1 ? 2 * layout.params[s]! : 0;
      const staging = plan.zeroStage === 1 || (plan.zeroStage === 0 && !plan.overlapComm) ? layout.largestBucket[s]! : 0;
      consider({ bytes: fixed + allGrads + staging, stage: s, modelStateBytes: fixed + allGrads, activationBytes: staging, inFlight: 0 });
    }
    return best;
  }

  private catalog(plan: Plan): OpCatalog {
    const key = `${plan.tp}|${plan.microBatch}|${plan.seqLength}|${plan.recompute}|${plan.precision}|${plan.hiddenDropout}|${plan.attentionDropout}|${plan.sequenceParallel === true}`;
    let c = this.catalogs.get(key);
    if (!c) this.catalogs.set(key, (c = new OpCatalog(this.cfg, plan)));
    return c;
  }

  private seconds(cat: OpCatalog, seq: number): number {
    let list = this.seqSeconds.get(cat);
    if (!list) this.seqSeconds.set(cat, (list = cat.opSeqs.map((s) => s.ops.reduce((t, op) => t + this.machine.compute.time(op), 0))));
    return list[seq]!;
  }

  /**
   * Chunks, static memory, parameters and data-parallel buckets per stage, read off the graph of the same
   * layout with one micro-batch per step (none of them depends on the micro-batch count or size).
   */
  private layoutKey(plan: Plan): string {
    return `${plan.tp}|${plan.pp}|${plan.dp}|${plan.zeroStage}|${plan.schedule === 'interleaved' ? plan.virtualStages : 1}|${plan.reduceBucketSize}|${plan.allgatherBucketSize}|${plan.overlapComm}|${plan.partitionMethod}|${plan.unevenPipeline ?? false}`;
  }

  private layout(plan: Plan): Layout {
    const key = this.layoutKey(plan);
    let l = this.layouts.get(key);
    if (!l) {
      const small: Plan = { ...plan, microBatch: 1, gradAccumSteps: plan.schedule === 'interleaved' ? plan.pp : 2, recompute: 'none', rankOrder: ['pipe', 'data', 'model'] };
      const g = buildTaskGraph(this.cfg, small);
      l = {
        dpTraffic: g.programs.map(dpTrafficOf),
        chunks: g.chunks,
        programs: g.programs,
        staticBytes: g.programs.map((p) => p.staticMemory.reduce((a, b) => a + b, 0)),
        params: g.programs.map((p) => p.paramsPerRank),
        largestBucket: g.programs.map((p) => 2 * Math.max(0, ...p.buckets.map((b) => (plan.zeroStage === 0 ? b.elements : b.paddedElements)))),
      };
      this.layouts.set(key, l);
    }
    return l;
  }

  /**
   * The largest runtime reserve of each stage's ranks on the plan's placement (sim/memory/runtime-reserve.ts),
   * from the communicators the small graph of the same layout uses — the ones the full graph uses.
   */
  private stageReserves(plan: Plan): number[] {
    const key = `${this.layoutKey(plan)}|${plan.rankOrder.join(',')}`;
    let r = this.reserves.get(key);
    if (!r) {
      const { chunks, programs } = this.layout(plan);
      const map = buildRankMap(plan, tiedStages(chunks));
      const reserve = runtimeReserve({ ...map, programOfRank: map.coords.pipe, programs }, this.machine);
      this.reserves.set(key, (r = stageReserves(reserve, map.coords.pipe, plan.pp)));
    }
    return r;
  }

  /** A stage's forwards and backwards in schedule order. */
  private schedule(plan: Plan, stage: number): PipeAction[] {
    const key = `${plan.pp}|${plan.gradAccumSteps}|${plan.schedule}|${plan.virtualStages}|${stage}`;
    let list = this.schedules.get(key);
    if (!list) this.schedules.set(key, (list = stageSchedule(plan, stage).filter((a) => a.op === 'forward' || a.op === 'backward')));
    return list;
  }

  private rankMap(plan: Plan): RankMap {
    const key = `${plan.tp}|${plan.pp}|${plan.dp}|${plan.rankOrder.join(',')}`;
    let m = this.rankMaps.get(key);
    if (!m) this.rankMaps.set(key, (m = buildRankMap(plan)));
    return m;
  }

  /** The least time of one TP collective (all-reduce; reduce-scatter or all-gather with sequence parallelism) of `bytes` over any TP group of the plan's placement. */
  private tpFloor(plan: Plan, bytes: number, op: CollectiveKind = 'all-reduce'): number {
    if (plan.tp < 2 || bytes <= 0) return 0;
    const place = `${plan.tp}|${plan.pp}|${plan.dp}|${plan.rankOrder.join(',')}`;
    const key = `${place}|${op}|${bytes}`;
    let t = this.tpFloors.get(key);
    if (t === undefined) {
      let groups = this.tpGroups.get(place);
      if (!groups) {
        const map = this.rankMap(plan);
        groups = map.groups[COMM.tp]!.members.map((m) => Object.freeze(Array.from(m, (r) => map.gpuOfRank[r]!)));
        this.tpGroups.set(place, groups);
      }
      const colls = idleCollectives(this.machine);
      t = Math.min(...groups.map((gpus) => collectiveFloor(colls.plan({ op, ranks: gpus, bytes, root: 0 }), colls.network.capacity)));
      this.tpFloors.set(key, t);
    }
    return t;
  }
}

/** A stage's data-parallel collectives by operation and size: counted on micro-batch 0, and step-level. */
function dpTrafficOf(p: RankProgram): DpTraffic[] {
  const byKey = new Map<string, DpTraffic>();
  for (let i = 0; i < p.size; i++) {
    if (p.kind[i] !== KIND.collective || p.comm[i] !== COMM.dp || p.bytes[i]! <= 0) continue;
    const mb = p.microBatch[i]!;
    if (mb > 0) continue;
    const op = COLLECTIVES[p.collective[i]!]!;
    const key = `${op}|${p.bytes[i]}`;
    let t = byKey.get(key);
    if (!t) byKey.set(key, (t = { op, bytes: p.bytes[i]!, perMicroBatch: 0, perStep: 0 }));
    if (mb === 0) t.perMicroBatch++;
    else t.perStep++;
  }
  return [...byKey.values()];
}
