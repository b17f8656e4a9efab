import { graphCommunicators, type CommunicatorSource } from '../../workload/communicators.js';
import type { CommKind } from '../../workload/task-graph.js';
import { idleCollectives } from '../bounds/step-floor.js';
import type { Machine } from '../executor/executor.js';
import { communicatorBuffers } from './nccl-buffers.js';

/**
 * The runtime reserve: GPU memory every training process holds besides its tensors, for the whole run.
 *  - the CUDA context, with the kernels loaded at start-up (GPU profile, `runtime.cudaContext`);
 *  - the cuBLAS workspaces, one per handle and stream that runs GEMMs (`runtime.cublasWorkspace` × handles);
 *  - NCCL's connection buffers, for every communicator the rank's process creates
 *    (workload/communicators.ts), sized from the channels the collectives planner gives each one
 *    (nccl-buffers.ts).
 * The tracker adds it to each rank's static memory, so peaks, fits and margins include it; the memory floor
 * and the planner's quick bound add the same amount, so the bounds stay below the simulated peaks.
 */
export interface RuntimeReserve {
  cudaContextBytes: number;
  /** All cuBLAS workspaces of one process. */
  cublasWorkspaceBytes: number;
  /** NCCL buffers of each rank. */
  ncclBytes: Float64Array;
  /** The whole reserve of each rank. */
  bytes: Float64Array;
  communicators: CommunicatorReserve[];
  /** Per rank, the indices of its communicators. */
  ofRank: number[][];
}

export interface CommunicatorReserve {
  kind: CommKind;
  ranks: readonly number[];
  channels: number;
  /** NCCL bytes on each member, in communicator order. */
  bytes: Float64Array;
}

export function runtimeReserve(g: CommunicatorSource & { gpuOfRank: Int32Array }, machine: Machine): RuntimeReserve {
  const { runtime } = machine.compute.gpu;
  const colls = idleCollectives(machine);
  const { communicators, ofRank } = graphCommunicators(g);
  const ncclBytes = new Float64Array(g.ranks);
  const comms = communicators.map((c): CommunicatorReserve => {
    const { channels, bytes } = communicatorBuffers(colls, Object.freeze(c.ranks.map((r) => g.gpuOfRank[r]!)));
    c.ranks.forEach((r, i) => (ncclBytes[r]! += bytes[i]!));
    return { ...c, channels, bytes };
  });
  const fixed = runtime.cudaContextBytes + runtime.cublasHandles * runtime.cublasWorkspaceBytes;
  return {
    cudaContextBytes: runtime.cudaContextBytes,
    cublasWorkspaceBytes: runtime.cublasHandles * runtime.cublasWorkspaceBytes,
    ncclBytes,
    bytes: ncclBytes.map((b) => fixed + b),
    communicators: comms,
    ofRank,
  };
}

/** The largest reserve of each pipeline stage's ranks: what a bound on the stage's fullest GPU may add. */
export function stageReserves(reserve: RuntimeReserve, pipeOfRank: Int32Array, pp: number): number[] {
  const out = new Array<number>(pp).fill(0);
  reserve.bytes.forEach((b, r) => (out[pipeOfRank[r]!] = Math.max(out[pipeOfRank[r]!]!, b)));
  return out;
}

/** One rank's reserve by part, and its NCCL communicators (for reports). */
export interface RankRuntime {
  cudaContextBytes: number;
  cublasWorkspaceBytes: number;
  ncclBytes: number;
  bytes: number;
  communicators: { kind: CommKind; ranks: number; channels: number; bytes: number }[];
}

export function rankRuntime(reserve: RuntimeReserve, rank: number): RankRuntime {
  return {
    cudaContextBytes: reserve.cudaContextBytes,
    cublasWorkspaceBytes: reserve.cublasWorkspaceBytes,
    ncclBytes: reserve.ncclBytes[rank]!,
    bytes: reserve.bytes[rank]!,
    communicators: reserve.ofRank[rank]!.map((i) => {
      const c = reserve.communicators[i]!;
      return { kind: c.kind, ranks: c.ranks.length, channels: c.channels, bytes: c.bytes[c.ranks.indexOf(rank)]! };
    }),
  };
}
