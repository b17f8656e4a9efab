import type { CommLayout } from './layout.js';
import type { NcclConstants } from '../../hardware/nccl-profile.js';
import type { NcclSystem } from './nccl-system.js';

/** What NCCL's topology search settles on for one pattern: channel count and per-channel speeds (B/s). */
export interface NcclGraph {
  nChannels: number;
  speedIntra: number;
  speedInter: number;
}

/**
 * NCCL 2.10.3's topology search (src/graph/search.cc ncclTopoCompute), reduced to the machines this project
 * models (NVSwitch or PCIe inside a node, NICs behind PCIe switches):
 *  - the speed starts at the highest entry of the speed array not above the best GPU path width, and the
 *    search keeps the speed that fits the most bandwidth (channels × speed), stopping once that reaches the
 *    GPU's total link width;
 *  - inside a node a channel passes every GPU once, so channels × speed ≤ the GPU's NVLink (or PCIe) width;
 *  - across nodes each channel enters and leaves the node through one NIC direction, so channels ≤ Σ over
 *    the communicator's NICs of ⌊NIC path width / speed⌋;
 *  - trees may then raise their intra-node speed up to twice the inter-node one (pass 2), and any graph whose
 *    intra-node speed is ≥ 25 GB/s is duplicated: twice the channels at half the speed.
 */
export function ncclGraph(layout: CommLayout, system: NcclSystem, c: NcclConstants, pattern: 'ring' | 'tree'): NcclGraph {
  const intraWidth = layout.intraNvlink ? system.nvlinkWidth : system.pciWidth;
  const ppn = Math.max(...layout.perNode.map((g) => g.length));
  // A channel with one GPU in the node never crosses an intra-node link.
  const intraLimit = (s: number) => (ppn > 1 ? Math.floor(intraWidth / s + 1e-9) : Infinity);
  const maxCh = c.graph.maxChannels;
  let graph: NcclGraph;
  if (layout.nNodes === 1) {
    graph = search(c.graph.speedsIntra, intraWidth, intraWidth, (s) => Math.min(maxCh, intraLimit(s)));
  } else {
    const nicWidth = Math.min(system.pciWidth, system.netWidth);
    const nics = Math.min(...layout.hcaGroups.map((groups) => groups.length));
    const nicChannels = (s: number) => nics * Math.floor(nicWidth / s + 1e-9);
    const total = Math.max(intraWidth, nicWidth);
    graph = search(c.graph.speedsInter, nicWidth, total, (s) => Math.min(maxCh, nicChannels(s), intraLimit(s)));
    if (pattern === 'tree') {
      // Pass 2: a faster intra-node chain, while below twice the inter-node speed and the NVLinks allow it.
      const speeds = c.graph.speedsInter;
      let i = speeds.indexOf(graph.speedIntra);
      while (i > 0 && graph.speedIntra < 2 * graph.speedInter && graph.nChannels <= intraLimit(speeds[i - 1]!)) {
        graph = { ...graph, speedIntra: speeds[--i]! };
      }
    }
  }
  if (graph.speedIntra >= c.graph.dupChannelsMinSpeed) {
    const dup = Math.min(2 * graph.nChannels, maxCh);
    const div = Math.ceil(dup / graph.nChannels);
    graph = { nChannels: dup, speedIntra: graph.speedIntra / div, speedInter: graph.speedInter / div };
  }
  return graph;
}

function search(speeds: readonly number[], maxWidth: number, totalWidth: number, channels: (s: number) => number): NcclGraph {
  let best: NcclGraph = { nChannels: 0, speedIntra: 0, speedInter: 0 };
  for (const s of speeds) {
    if (s > maxWidth + 1e-3) continue;
    const n = channels(s);
    if (n * s > best.nChannels * best.speedInter) best = { nChannels: n, speedIntra: s, speedInter: s };
    if (n * s >= totalWidth) break;
  }
  if (best.nChannels === 0) {
    // NCCL falls back to one channel at the slowest speed ("Could not find a path ... falling back").
    const s = speeds[speeds.length - 1]!;
    best = { nChannels: 1, speedIntra: s, speedInter: s };
  }
  return best;
}
