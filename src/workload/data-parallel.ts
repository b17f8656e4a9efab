import type { NeoXConfig } from '../model/config.js';
import type { ComputeOp } from '../model/ops.js';
import { adamStepOp } from '../model/optimizer-ops.js';
import type { Plan } from './plan-types.js';
import type { PipeAction } from './schedule.js';
import type { DpHooks, StageEmitter } from './stage-program.js';
import { flattenOp, gradNormOp, overflowScanOp, scaleOp } from './step-ops.js';
import type { CollectiveKind, CommKind, MemoryCategory, ModelChunk, TaskDType, TaskPart } from './task-graph.js';
import {
  chunkTensors, evenShard, fillBuckets, gatherBuckets, numelOf, optimizerGroups, paramGroups, tensorsOfPart, zero1Buckets, type GradBucket,
  type PartKey, type RankTensor,
} from './zero.js';

/**
 * Data parallelism and the optimizer step, per ZeRO stage, as DeepSpeed runs them:
 * - ZeRO 0 (DeepSpeed FP16_Optimizer): fp16 gradients accumulate over the micro-batches; at the GAS
 *   boundary they are all-reduced over DP in buffers closed once they exceed 5e8 elements (engine.py
 *   MEMORY_OPT_ALLREDUCE_SIZE, buffered_allreduce_fallback); with overlapComm, DDP-style buckets of reduceBucketSize are all-reduced
 *   during the last micro-batch's backward as their layers finish. Adam runs on every parameter.
 * - ZeRO 1 (DeeperSpeed 0.3.15 stage1.py): per parameter group, a flat fp16 copy of all gradients, one
 *   reduce-scatter per comm interval (best_max_elems_per_comm sizing), Adam on the rank's sub-partitions,
 *   then one all-gather per interval. overlap_comm is not used by stage 1.
 * - ZeRO 2 (stage2.py): gradients are partitioned, so every micro-batch's backward reduce-scatters IPG
 *   buckets of reduceBucketSize (on their own stream with overlapComm); after Adam the partitions are
 *   all-gathered in allgatherBucketSize shards.
 * - ZeRO 3 (stage3.py): parameters are partitioned too: each part's fp16 parameters are all-gathered before
 *   its forward and again before its recompute/backward (one part of look-ahead), its gradients
 *   reduce-scattered after its backward.
 * Overflow check and gradient norm: DeepSpeed CheckOverflow / get_grad_norm, each a small all-reduce
 * followed by a host read (.item()).
 */
export interface DpSetup {
  hooks: DpHooks;
  staticMemory: Partial<Record<MemoryCategory, number>>;
  buckets: GradBucket[];
  paramsPerRank: number;
  shardParams: number;
}

/**
 * Parameters whose gradient is partial per TP rank under sequence parallelism: every LayerNorm's, and with a
 * sequential residual the row-parallel biases added after the reduce-scatter (Megatron marks both
 * `sequence_parallel`). With gpt-neox's parallel residual the biases are added before the reduce-scatter, so
 * their gradients are whole on every rank.
 */
export function sequenceParallelGrad(cfg: NeoXConfig, name: string): boolean {
  if (/layernorm|layer_norm/.test(name)) return true;
  return !cfg.parallelResidual && /(attention\.dense|mlp\.dense_4h_to_h)\.bias$/.test(name);
}

/** DeepSpeed engine.py MEMORY_OPT_ALLREDUCE_SIZE: the buffered all-reduce's buffer size, elements. */
export const MEMORY_OPT_ALLREDUCE_SIZE = 500_000_000;

/** `tiedCopy`: the head's stage is not the embedding's, so a tied model holds a second embedding copy there. */
export function dataParallel(cfg: NeoXConfig, plan: Plan, chunks: ModelChunk[], actions: PipeAction[], tiedCopy: boolean): DpSetup {
  const ts: RankTensor[] = chunks.flatMap((c) => chunkTensors(cfg, c, plan.tp, tiedCopy));
  const params = numelOf(ts);
  const z = plan.zeroStage;
  const dp = plan.dp;
  const e16 = 2; // bytes of a 16-bit element (fp16/bf16 params and grads)
  let buckets: GradBucket[];
  let shard: number;
  if (z === 0) {
    shard = params;
    buckets = plan.overlapComm ? fillBuckets(ts, plan.reduceBucketSize, 'backward', 'at-most', 1) : fillBuckets(ts, MEMORY_OPT_ALLREDUCE_SIZE, 'forward', 'over', 1);
  } else if (z === 1) {
    ({ buckets, shard } = zero1Buckets(ts, plan.reduceBucketSize, dp));
  } else {
    shard = evenShard(ts, dp);
    buckets = z === 2 ? fillBuckets(ts, plan.reduceBucketSize, 'backward', 'at-most', dp) : [];
  }
  const partKeys = [...new Set(ts.map((t) => t.part))];
  if (z === 3) {
    // One bucket per part: what its gather and its gradient reduce-scatter carry.
    let offset = 0;
    buckets = partKeys.map((key) => {
      const n = numelOf(tensorsOfPart(ts, key));
      const b = { offset, elements: n, paddedElements: Math.ceil(n / dp) * dp, readyAfter: key, group: 0 };
      offset += n;
      return b;
    });
  }
  const gatherShards = z === 2 ? gatherBuckets(shard * dp, plan.allgatherBucketSize, dp) : [];
  const allBuckets = [...buckets, ...gatherShards];

  const staticMemory: Partial<Record<MemoryCategory, number>> = {
    'fp16-params': (z === 3 ? shard : params) * e16,
    'fp32-master': shard * 4,
    'adam-m': shard * 4,
    'adam-v': shard * 4,
  };
  if (z >= 2) staticMemory['fp16-grads'] = shard * e16;
  if (z === 2) staticMemory['comm-buckets'] = plan.reduceBucketSize * e16 * (plan.overlapComm ? 2 : 1);

  const lastBackward = new Map<number, number>();
  for (const a of actions) if (a.op === 'backward') lastBackward.set(a.vstage, a.mb);
  const gradsAllocated = new Set<PartKey>();
  let gradBytesLive = 0;
  const pending: number[] = [];
  const partEnds: number[] = [];
  const gathered = new Map<PartKey, number>();
  const world = plan.tp * plan.pp * plan.dp;
  const size: Record<CommKind, number> = { tp: plan.tp, dp, mp: plan.tp * plan.pp, tied: tiedCopy ? 2 : 1, pipe: 2, world };
  const bucketIndex = (b: GradBucket) => allBuckets.indexOf(b);

  const collective = (
    e: StageEmitter, c: { collective: CollectiveKind; comm: CommKind; bytes: number; dtype?: TaskDType; key: string; label: string; part: TaskPart; phase?: 'backward' | 'forward' | 'recompute' | 'step'; mb?: number; vstage?: number; bucket?: GradBucket; deps?: number[]; stream?: 'dp' | 'tp' },
    opts: { blocksCompute?: boolean; blocksHost?: boolean } = {},
  ): number => {
    if (size[c.comm] < 2) return -1;
    return e.b.communicate({
      kind: 'collective', stream: c.stream ?? 'dp', phase: c.phase ?? 'step', part: c.part, comm: c.comm, collective: c.collective, bytes: c.bytes,
      dtype: c.dtype ?? plan.precision, key: c.key, label: c.label, mb: c.mb, vstage: c.vstage, bucket: c.bucket ? bucketIndex(c.bucket) : -1,
      deps: c.deps ?? (e.b.lastCompute >= 0 ? [e.b.lastCompute] : []),
    }, opts);
  };
  const compute = (e: StageEmitter, part: TaskPart, op: ComputeOp): number =>
    e.b.compute({ phase: 'step', part, opSeq: e.cat.seq(`${op.name} ×${op.m}`, () => [op]), label: op.name });
  const smallAllReduce = (e: StageEmitter, what: 'overflow-check' | 'grad-norm', comms: CommKind[], key: string) => {
    const live = comms.filter((c) => size[c] > 1);
    live.forEach((comm, i) => collective(e, {
      collective: 'all-reduce', comm, bytes: what === 'overflow-check' ? 1 : 4, dtype: what === 'overflow-check' ? 'uint8' : 'fp32',
      key: `step/${key}/${comm}`, label: `${what} all-reduce (${comm})`, part: what,
    }, { blocksHost: i === live.length - 1 }));
  };

  const hooks: DpHooks = {
    beforePart(e, p, phase, vstage, mb) {
      if (z !== 3) return;
      const b = buckets.find((x) => x.readyAfter === p.key)!;
      // One part of look-ahead: the gather may start once the part two back has finished computing.
      const ahead = partEnds.length >= 2 ? [partEnds[partEnds.length - 2]!] : [];
      const t = collective(e, {
        collective: 'all-gather', comm: 'dp', bytes: b.paddedElements * e16, key: `gather/${phase}/v${vstage}/mb${mb}/${p.key}`,
        label: `zero3 gather ${p.key}`, part: 'param-gather', phase: phase === 'forward' ? 'forward' : 'backward', mb, vstage, bucket: b, deps: ahead,
      });
      if (t < 0) return;
      e.b.computeWaitsFor(t);
      const bytes = (b.elements - Math.ceil(b.elements / dp)) * e16;
      e.b.memory(t, 'start', 'gathered-params', bytes);
      gathered.set(p.key, bytes);
    },
    afterPart(e, p, phase, vstage, mb, first, last) {
      partEnds.push(last);
      const g = gathered.get(p.key);
      if (g !== undefined) {
        e.b.memory(last, 'end', 'gathered-params', -g);
        gathered.delete(p.key);
      }
      if (phase !== 'backward') return;
      const partBytes = numelOf(tensorsOfPart(ts, p.key)) * e16;
      if (z <= 1 && !gradsAllocated.has(p.key)) {
        // param.grad is created by the part's first backward of the step and freed by the optimizer step.
        gradsAllocated.add(p.key);
        e.b.memory(first, 'start', 'fp16-grads', partBytes);
        gradBytesLive += partBytes;
      }
      const reduceNow = z === 2 || z === 3 || (z === 0 && plan.overlapComm && lastBackward.get(vstage) === mb);
      if (!reduceNow) return;
      for (const b of buckets.filter((x) => x.readyAfter === p.key)) {
        const t = collective(e, {
          collective: z === 0 ? 'all-reduce' : 'reduce-scatter', comm: 'dp', bytes: (z === 0 ? b.elements : b.paddedElements) * e16,
          key: `reduce/v${vstage}/mb${mb}/b${bucketIndex(b)}`, label: `${z === 0 ? 'gradient all-reduce' : `zero${z} reduce-scatter`} bucket ${bucketIndex(b)}`,
          part: 'grad-reduce', phase: 'backward', mb, vstage, bucket: b, deps: [last],
        }, { blocksCompute: !plan.overlapComm });
        if (z === 3) {
          // The part's full gradient exists from its backward until it is reduce-scattered into the shard.
          e.b.memory(first, 'start', 'fp16-grads', partBytes);
          e.b.memory(t >= 0 ? t : last, 'end', 'fp16-grads', -partBytes);
        }
        if (t >= 0 && plan.overlapComm) pending.push(t);
      }
    },
    step(e) {
      for (const t of pending) e.b.computeWaitsFor(t);
      // DeepSpeed ReduceTiedGrads / Megatron's embedding group: the embedding's stage and the head's stage each
      // hold the tied embedding; their gradients are summed before the optimizer step.
      const tied = ts.find((t) => t.name === 'gpt_neox.embed_in.weight');
      if (cfg.tieWordEmbeddings && tiedCopy && tied && chunks.some((c) => c.hasEmbedding || c.hasHead)) {
        collective(e, { collective: 'all-reduce', comm: 'tied', bytes: tied.numel * e16, key: 'step/tied-grads', label: 'tied embedding gradient all-reduce', part: 'tied-grads' }, { blocksCompute: true });
      }
      // Sequence parallelism: each TP rank's LayerNorm (and, after a reduce-scatter, row-parallel bias)
      // gradients cover its s/tp tokens only; Megatron sums them over TP once per step (allreduce_layernorm_grads).
      const spGrads = plan.sequenceParallel === true ? numelOf(ts.filter((t) => sequenceParallelGrad(cfg, t.name))) : 0;
      if (spGrads > 0) {
        collective(e, {
          collective: 'all-reduce', comm: 'tp', stream: 'tp', bytes: spGrads * e16, key: 'step/sequence-parallel-grads',
          label: 'sequence-parallel LayerNorm gradient all-reduce', part: 'layer',
        }, { blocksCompute: true });
      }
      const groups = paramGroups(ts);
      if (z === 0 && !plan.overlapComm) {
        buckets.forEach((b, i) => {
          const f = compute(e, 'grad-reduce', flattenOp('zero0.flatten-grads', b.elements, 1));
          e.b.memory(f, 'start', 'comm-buckets', b.elements * e16);
          collective(e, { collective: 'all-reduce', comm: 'dp', bytes: b.elements * e16, key: `step/reduce/b${i}`, label: `gradient all-reduce bucket ${i}`, part: 'grad-reduce', bucket: b }, { blocksCompute: true });
          const u = compute(e, 'grad-reduce', flattenOp('zero0.unflatten-grads', b.elements, 1));
          e.b.memory(u, 'end', 'comm-buckets', -b.elements * e16);
        });
      }
      if (z === 1) {
        groups.forEach((g, gi) => {
          const mine = buckets.filter((b) => b.group === gi);
          const padded = mine.reduce((a, b) => a + b.paddedElements, 0);
          const f = compute(e, 'grad-reduce', flattenOp('zero1.flatten-grads', padded, g.length));
          e.b.memory(f, 'start', 'comm-buckets', padded * e16);
          let last = f;
          for (const b of mine) {
            collective(e, { collective: 'reduce-scatter', comm: 'dp', bytes: b.paddedElements * e16, key: `step/reduce/b${bucketIndex(b)}`, label: `zero1 reduce-scatter group ${gi} interval ${bucketIndex(b)}`, part: 'grad-reduce', bucket: b }, { blocksCompute: true });
            last = compute(e, 'grad-reduce', scaleOp('zero1.postscale', b.paddedElements / dp, e16));
          }
          e.b.memory(last, 'end', 'comm-buckets', -padded * e16);
        });
      }
      // Overflow check over the gradients this rank holds, then the global gradient norm.
      const held = z <= 1 ? params : shard;
      compute(e, 'overflow-check', overflowScanOp(held, z <= 1 ? ts.length : groups.length));
      smallAllReduce(e, 'overflow-check', z === 0 ? ['mp'] : z === 1 ? ['world'] : ['dp', 'mp'], 'overflow');
      // fp32 gradients for the optimizer: the rank's partition (ZeRO ≥ 1) or the whole flat buffer (ZeRO 0).
      const fp32 = compute(e, 'optimizer', flattenOp('optimizer.fp32-grads', shard, z <= 1 ? ts.length : 1, 4));
      e.b.memory(fp32, 'start', 'fp32-grads', shard * 4);
      // One norm per optimizer group, each all-reduced over the model-parallel slice: every stage joins every
      // one of them, including a stage that holds no parameters of a group (or none at all).
      optimizerGroups(ts).forEach((g, gi) => {
        const n = z === 1 ? numelOf(g) : Math.ceil(numelOf(g) / (z >= 2 ? dp : 1));
        if (g.length > 0) compute(e, 'grad-norm', gradNormOp(`optimizer.grad-norm.group${gi}`, n, g.length, z === 0 ? 4 : 2));
        smallAllReduce(e, 'grad-norm', z >= 2 ? ['dp', 'mp'] : ['mp'], `grad-norm/g${gi}`);
      });
      if (gradBytesLive > 0) e.b.memory(fp32, 'end', 'fp16-grads', -gradBytesLive);
      compute(e, 'optimizer', scaleOp('optimizer.unscale-clip', shard, 4));
      const adam = compute(e, 'optimizer', adamStepOp(shard));
      e.b.memory(adam, 'end', 'fp32-grads', -shard * 4);
      const gathers = z === 1 ? buckets : z === 2 ? gatherShards : [];
      for (const b of gathers) {
        collective(e, { collective: 'all-gather', comm: 'dp', bytes: b.paddedElements * e16, key: `step/gather/b${bucketIndex(b)}`, label: `zero${z} parameter all-gather ${bucketIndex(b)}`, part: 'param-gather', bucket: b }, { blocksCompute: true });
      }
    },
  };
  return { hooks, staticMemory, buckets: allBuckets, paramsPerRank: params, shardParams: shard };
}

