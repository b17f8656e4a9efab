import type { Topology } from '../../hardware/topology.js';
import type { Algorithm, NcclConstants, Protocol } from '../../hardware/nccl-profile.js';
import type { Bound } from '../network/flow.js';
import { Engine } from '../engine/engine.js';
import { Network } from '../network/network.js';
import { type CollectiveOp, type CollectiveResult, Collectives } from './collectives.js';
import type { NcclSystem } from './nccl-system.js';

/**
 * nccl-tests' bus bandwidth factor (NVIDIA/nccl-tests doc/PERFORMANCE.md): busbw = algbw × factor, with
 * all-reduce 2(n−1)/n, reduce-scatter and all-gather (n−1)/n, broadcast, reduce and sendrecv 1. For
 * reduce-scatter and all-gather the size is the whole array (count × n × element size).
 */
export function busBwFactor(op: CollectiveOp, nRanks: number): number {
  if (nRanks <= 1) return 0;
  if (op === 'all-reduce') return (2 * (nRanks - 1)) / nRanks;
  if (op === 'reduce-scatter' || op === 'all-gather') return (nRanks - 1) / nRanks;
  return 1;
}

export interface SweepRow {
  bytes: number;
  /** Seconds. */
  time: number;
  /** Bytes/s: algbw = bytes / time; busbw = algbw × busBwFactor. */
  algbw: number;
  busbw: number;
  algorithm: CollectiveResult['plan']['algorithm'];
  protocol: Protocol;
  channels: number;
  bottleneck: Bound | 'latency';
  /** NCCL's own model time for the chosen algorithm, s (null for point-to-point). */
  modelTime: number | null;
}

export interface SweepOptions {
  topology: Topology;
  nccl: NcclConstants;
  system: NcclSystem;
  op: CollectiveOp;
  ranks: readonly number[];
  sizes: readonly number[];
  root?: number;
  algorithm?: Algorithm;
  protocol?: Protocol;
}

/** The sizes min, min·f, min·f², … up to max (nccl-tests -b/-e/-f), or min, min+step, … (nccl-tests -i). */
export function sweepSizes(min: number, max: number, step: { factor: number } | { bytes: number }, limit = Infinity): number[] {
  const next = 'factor' in step ? (s: number) => Math.max(s + 1, Math.round(s * step.factor)) : (s: number) => s + Math.max(1, step.bytes);
  const sizes: number[] = [];
  for (let s = min; s <= max && sizes.length < limit; s = next(s)) sizes.push(s);
  return sizes;
}

/** Times one operation per size, each alone on an idle network, like an nccl-tests run. */
export function collectiveSweep(o: SweepOptions): SweepRow[] {
  return o.sizes.map((bytes) => {
    const engine = new Engine();
    const colls = new Collectives(new Network(engine, o.topology), o.nccl, o.system);
    let result: CollectiveResult | undefined;
    colls.run({ op: o.op, ranks: o.ranks, bytes, root: o.root, algorithm: o.algorithm, protocol: o.protocol, onDone: (r) => (result = r) });
    engine.run();
    const { plan, start, end, bottleneck } = result!;
    const time = end - start;
    const algbw = time > 0 ? bytes / time : 0;
    return {
      bytes,
      time,
      algbw,
      busbw: algbw * busBwFactor(o.op, plan.nRanks),
      algorithm: plan.algorithm,
      protocol: plan.protocol,
      channels: plan.nChannels,
      bottleneck,
      modelTime: Number.isNaN(plan.modelTime) ? null : plan.modelTime,
    };
  });
}
