import type { NcclConstants } from '../../hardware/nccl-profile.js';
import { ringOrders, treeChannels } from '../collectives/channels.js';
import type { Collectives } from '../collectives/collectives.js';
import { nodeOf, type NetPath } from '../collectives/layout.js';

/** The NCCL buffers of one communicator. */
export interface CommBuffers {
  /** NCCL channels the communicator runs (each is connected at init). */
  channels: number;
  /** Device bytes NCCL allocates on each member GPU, in communicator order. */
  bytes: Float64Array;
}

/**
 * GPU memory of one communicator's connection buffers, as NCCL 2.10.3 allocates them.
 *
 * Every channel is connected when the communicator is created (init.cc initTransportsRank): each rank gets a
 * send connector to its ring successor and a receive connector from its predecessor, then send and receive
 * connectors with its tree parent and children, both directions. There is one connector per peer, direction
 * and channel (transport.cc), so a tree edge that repeats a ring edge costs nothing more. Channel c runs ring
 * c mod (distinct rings) and tree 0 for the first half of the channels, tree 1 for the second half
 * (connect.cc ncclTopoPostset) — the same channels the collectives planner times (collectives/channels.ts).
 *
 * Each connector allocates on its own GPU:
 *  - inside a node (P2P transport, p2p.cc): the receiver holds the LL and LL128 buffers; the Simple buffer
 *    sits with the sender when it reads (P2P read: compute capability 8.0 over NVLink), else with the
 *    receiver; both sides add a header and round up to CUDA_IPC_MIN (2 MiB);
 *  - across nodes (NET transport, net.cc): with GPUDirect RDMA the receiver holds all three buffers and the
 *    sender LL128 and Simple (LL stays in host memory); without it everything is in host memory.
 * Host memory, kilobyte-sized device structures (channel peers, ring ranks) and the module NCCL loads into
 * the CUDA context are not counted here.
 */
export function communicatorBuffers(colls: Collectives, gpus: readonly number[]): CommBuffers {
  let cache = caches.get(colls);
  if (!cache) caches.set(colls, (cache = new Map()));
  const key = gpus.join(',');
  let out = cache.get(key);
  if (!out) cache.set(key, (out = compute(colls, gpus)));
  return out;
}
const caches = new WeakMap<Collectives, Map<string, CommBuffers>>();

function compute(colls: Collectives, gpus: readonly number[]): CommBuffers {
  const bytes = new Float64Array(gpus.length);
  if (gpus.length < 2) return { channels: 0, bytes };
  const { layout, tuning } = colls.communicator(gpus);
  const topo = colls.network.topology;
  const m = colls.nccl.memory;
  const sizes = connectorSizes(m, colls.system.computeCapability === m.p2pReadComputeCapability, gdr(layout.netPath, m.netGdrMaxPath), colls.system.nvlinkWidth > 0);
  const nvlinkOnly = (a: number, b: number) => topo.route(a, b).every((l) => topo.links[l]!.cls === 'nvlink');
  const index = new Map(gpus.map((g, i) => [g, i]));
  const n = tuning.nChannels;
  const half = n / 2;
  const rings = ringOrders(layout, n);
  const trees = treeChannels(layout, n);
  const treeKinds = trees.length / 2;
  for (let c = 0; c < n; c++) {
    // Connectors of this channel: "src>dst" once per direction and pair.
    const links = new Set<string>();
    const order = rings[c % rings.length]!.order;
    order.forEach((g, i) => links.add(`${g}>${order[(i + 1) % order.length]}`));
    const tree = trees[2 * ((c % half) % treeKinds) + (c < half ? 0 : 1)]!;
    for (const [s, d] of tree.hops) links.add(`${s}>${d}`);
    for (const link of links) {
      const [s, d] = link.split('>').map(Number) as [number, number];
      if (s === d) continue;
      const local = nodeOf(topo, s) === nodeOf(topo, d);
      const size = local ? (nvlinkOnly(s, d) ? sizes.nvlink : sizes.pcie) : sizes.net;
      bytes[index.get(s)!]! += size.send;
      bytes[index.get(d)!]! += size.recv;
    }
  }
  return { channels: n, bytes };
}

interface Sides {
  send: number;
  recv: number;
}

/**
 * Bytes each side of one connector allocates on its GPU: P2P over NVLink (reads on Ampere), P2P over PCIe,
 * and NET with or without GPUDirect RDMA.
 */
export function connectorSizes(m: NcclConstants['memory'], ampere: boolean, gdrRecv: boolean, gpuHasNvlink: boolean): { nvlink: Sides; pcie: Sides; net: Sides } {
  const { LL, LL128, Simple } = m.buffSizes;
  const align = (x: number) => Math.ceil(x / m.p2pAlignment) * m.p2pAlignment;
  const p2p = (read: boolean): Sides => ({ send: align(m.connectorHeader + (read ? Simple : 0)), recv: align(m.connectorHeader + LL + LL128 + (read ? 0 : Simple)) });
  // GPUDirect RDMA reads (the send side) also need the GPU to have NVLink to another GPU (paths.cc).
  const gdrSend = gdrRecv && gpuHasNvlink;
  return {
    nvlink: p2p(ampere),
    pcie: p2p(false),
    net: { send: gdrSend ? LL128 + Simple : 0, recv: gdrRecv ? LL + LL128 + Simple : 0 },
  };
}

const PATHS: readonly NetPath[] = ['PIX', 'PXB', 'PHB', 'SYS'];
const gdr = (path: NetPath, max: NetPath) => PATHS.indexOf(path) <= PATHS.indexOf(max);
