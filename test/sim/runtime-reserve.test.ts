import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../src/hardware/cluster.js';
import { loadNcclProfile } from '../../src/hardware/nccl-profile.js';
import { getPreset } from '../../src/model/presets.js';
import { connectorSizes } from '../../src/sim/memory/nccl-buffers.js';
import { rankRuntime, runtimeReserve } from '../../src/sim/memory/runtime-reserve.js';
import { NEOX_20B_PLAN } from '../../src/sim/run/run-settings.js';
import { clusterMachine } from '../../src/sim/run/simulate.js';
import { buildTaskGraph } from '../../src/workload/build-graph.js';
import { makePlan } from '../../src/workload/plan.js';

const MiB = 2 ** 20;
const machine = clusterMachine(loadCluster('supermicro12'), loadNcclProfile());
const cfg = getPreset('neox-20b');
const graph = buildTaskGraph(cfg, makePlan(cfg, { ...NEOX_20B_PLAN, dp: 12 }));
const reserve = runtimeReserve(graph, machine);

// One NCCL 2.10.3 connection's buffers: LL 8 × 512 × 8 × 16 B, LL128 120 × 640 × 8 × 8 B, Simple 4 MiB.
const LL = 524_288;
const LL128 = 4_915_200;
const SIMPLE = 4 * MiB;
// Inside a node, P2P over NVLink with A100 reads: the sender holds a 4 KiB header + Simple, the receiver a
// header + LL + LL128, each rounded up to 2 MiB: 3 × 2 MiB on both sides.
const P2P = 6 * MiB;
// Across nodes with GPUDirect RDMA: the sender keeps LL128 + Simple on the GPU, the receiver all three.
const NET_SEND = LL128 + SIMPLE;
const NET_RECV = LL + LL128 + SIMPLE;
/** Bytes of p2p sends and receives, and NET sends and receives, counted by hand. */
const conns = (p2pSend: number, p2pRecv: number, netSend: number, netRecv: number) => (p2pSend + p2pRecv) * P2P + netSend * NET_SEND + netRecv * NET_RECV;

describe('runtime reserve of GPT-NeoX-20B on supermicro12 (TP 2, PP 4, DP 12, pipe,data,model), rank 0 by hand', () => {
  const r0 = rankRuntime(reserve, 0);
  const comm = (kind: string) => r0.communicators.find((c) => c.kind === kind)!;

  it('connector sizes follow the NCCL profile: 6 MiB per side over NVLink, LL128 + Simple / all three across nodes', () => {
    expect(connectorSizes(machine.nccl.memory, true, true, true)).toEqual({
      nvlink: { send: P2P, recv: P2P },
      // Without P2P reads the Simple buffer moves to the receiver: ⌈4 KiB / 2 MiB⌉ and ⌈(4 KiB + 9,633,792 B) / 2 MiB⌉ × 2 MiB.
      pcie: { send: 2 * MiB, recv: 10 * MiB },
      net: { send: NET_SEND, recv: NET_RECV },
    });
    // No GPUDirect RDMA: every NET buffer stays in host memory.
    expect(connectorSizes(machine.nccl.memory, true, false, true).net).toEqual({ send: 0, recv: 0 });
  });

  it('CUDA context and cuBLAS workspaces come from the GPU profile', () => {
    expect(r0.cudaContextBytes).toBe(1685 * MiB);
    expect(r0.cublasWorkspaceBytes).toBe(2 * (2 * 4096 + 8 * 16) * 1024);
  });

  it('rank 0 creates the world, TP, DP, model-parallel slice and one pipeline-pair communicators (20B has no tied embeddings)', () => {
    expect(r0.communicators.map((c) => [c.kind, c.ranks, c.channels])).toEqual([
      ['world', 96, 8], ['tp', 2, 24], ['dp', 12, 8], ['mp', 8, 2], ['pipe', 2, 2],
    ]);
  });

  it('TP pair inside a node: 24 channels (12 NVLinks × 22 GB/s = 6 × 44, duplicated twice), one send and one receive each', () => {
    expect(comm('tp').bytes).toBe(24 * conns(1, 1, 0, 0));
  });

  it('pipeline pair, GPU 0 ↔ GPU 24 on another node: 2 channels (one NIC at 24 GB/s, the tree pair), NET both ways', () => {
    expect(comm('pipe').bytes).toBe(2 * conns(0, 0, 1, 1));
  });

  it('DP group of GPUs 0, 2, …, 22 on 3 nodes: 8 channels; 14 + 14 P2P and 5 + 5 NET connectors on GPU 0', () => {
    // Rings (GPU 0's next / previous): 6/18, 6/2, 6/2, 14/2; chains 0-2-4-6 rotated: neighbours {2}, {6}, {6,2}, {6,2};
    // tree 0 joins GPU 0 to GPU 22 on chain 3; tree 1 joins it to GPUs 10 and 16 on chain 0.
    expect(comm('dp').bytes).toBe(conns(14, 14, 5, 5));
  });

  it('model-parallel slice (GPUs 0, 1, 24, 25, 48, 49, 72, 73): 2 channels; 2 + 2 P2P, 1 + 3 NET connectors on GPU 0', () => {
    // Ring 0 → 1 … 73 → 0 on both channels; chain 0-1; tree 1 joins GPU 0 to GPU 25 (node 0 is node 1's second child).
    expect(comm('mp').bytes).toBe(conns(2, 2, 1, 3));
  });

  it('world (96 GPUs, 12 nodes): 8 channels; 16 + 14 P2P, 1 + 3 NET connectors on GPU 0', () => {
    // Rings: next 7 on every channel, previous 89 (NET) on ring 0 and 1 on the others; chains give neighbours 1 and 7;
    // tree 1 joins GPU 0 to GPU 9 (node 0 is node 1's second child).
    expect(comm('world').bytes).toBe(conns(16, 14, 1, 3));
  });

  it('adds up: context + cuBLAS + every communicator', () => {
    const nccl = r0.communicators.reduce((a, c) => a + c.bytes, 0);
    expect(r0.ncclBytes).toBe(nccl);
    expect(r0.bytes).toBe(1685 * MiB + 2 * 8_519_680 + nccl);
    expect(reserve.bytes[0]).toBe(r0.bytes);
  });

  it('is the same for every rank holding the same place: rank 1 (GPU 1) mirrors rank 0 in its TP pair', () => {
    expect(rankRuntime(reserve, 1).communicators.find((c) => c.kind === 'tp')!.bytes).toBe(comm('tp').bytes);
    // Deterministic: computing it again gives the same bytes for every rank.
    expect(Array.from(runtimeReserve(graph, machine).bytes)).toEqual(Array.from(reserve.bytes));
  });
});
