import { InputError } from '../../common/errors.js';
import type { CommLayout } from './layout.js';
import { ALGORITHMS, type Algorithm, type NcclConstants, PROTOCOLS, type Protocol } from '../../hardware/nccl-profile.js';
import { ncclGraph, type NcclGraph } from './nccl-graph.js';
import type { NcclSystem } from './nccl-system.js';

export type Collective = 'broadcast' | 'reduce' | 'all-gather' | 'reduce-scatter' | 'all-reduce';

/** NCCL's model of one (collective, algorithm, protocol) on one communicator. Bandwidths in B/s, latency in s. */
export interface AlgoCost {
  /** Bus bandwidth after NCCL's refinements (0 = disabled). */
  busBw: number;
  /** Algorithm bandwidth: busBw × nRanks/nSteps (ring) or × 0.5 (tree). */
  algBw: number;
  latency: number;
}

/**
 * NCCL 2.10.3's cost model for one communicator (src/graph/tuning.cc ncclTopoTuneModel and
 * ncclTopoGetAlgoTime): per (collective, algorithm, protocol) a latency and a bandwidth; the time of an
 * operation of n bytes is latency + n / bandwidth, with the size-dependent tree correction and the
 * multi-node ring "plateau". The algorithm and protocol with the least time win, Tree before Ring and
 * LL before LL128 before Simple on ties.
 */
export class NcclTuning {
  readonly ring: NcclGraph;
  readonly tree: NcclGraph;
  /** Channels the communicator runs: both graphs' common count, duplicated (init.cc, ncclTopoPostset). */
  readonly nChannels: number;
  private readonly table = new Map<string, AlgoCost>();

  constructor(
    readonly layout: CommLayout,
    readonly system: NcclSystem,
    readonly c: NcclConstants,
    /** All ring channels cross every node in the same GPU order (NCCL ringGraph->sameChannels). */
    sameChannels: boolean,
  ) {
    this.ring = ncclGraph(layout, system, c, 'ring');
    this.tree = ncclGraph(layout, system, c, 'tree');
    this.nChannels = Math.min(2 * c.graph.maxChannels, 2 * Math.min(this.ring.nChannels, this.tree.nChannels));
    const colls: Collective[] = ['broadcast', 'reduce', 'all-gather', 'reduce-scatter', 'all-reduce'];
    for (const coll of colls) {
      for (const a of ALGORITHMS) {
        if (coll !== 'all-reduce' && a !== 'ring') continue;
        for (const p of PROTOCOLS) this.table.set(`${coll}/${a}/${p}`, this.model(coll, a, p, sameChannels));
      }
    }
  }

  /** The model's latency and bandwidth, or undefined where NCCL has no such algorithm for the collective. */
  cost(coll: Collective, a: Algorithm, p: Protocol): AlgoCost | undefined {
    return this.table.get(`${coll}/${a}/${p}`);
  }

  /** ncclTopoGetAlgoTime: seconds, or Infinity where the algorithm/protocol is unavailable or disabled. */
  time(coll: Collective, a: Algorithm, p: Protocol, bytes: number): number {
    const cost = this.cost(coll, a, p);
    if (!cost || cost.algBw === 0) return Infinity;
    const bw = a === 'tree' ? cost.algBw * this.treeCorrection(p, bytes) : cost.algBw;
    return this.latency(coll, a, p, bytes) + bytes / bw;
  }

  /** The latency term of an operation of `bytes`, s: the model's latency, with the multi-node ring plateau. */
  latency(coll: Collective, a: Algorithm, p: Protocol, bytes: number): number {
    const lat = this.cost(coll, a, p)?.latency ?? NaN;
    const plateau = a === 'ring' && p === 'Simple' && this.layout.nNodes > 1 && coll === 'all-reduce' && bytes >= this.layout.nRanks * this.c.ringPlateauBytesPerRank;
    return plateau ? lat * this.c.ringPlateauFactor : lat; // "Plateau effect of ring"
  }

  /** The size-dependent tree bandwidth correction (1 beyond the table). */
  treeCorrection(p: Protocol, bytes: number): number {
    const table = this.c.treeCorrection[p];
    const logSize = log2i(Math.floor(bytes / 64));
    return logSize < table.length ? table[logSize]! : 1;
  }

  /** The fastest algorithm and protocol by the model, among those allowed. */
  select(coll: Collective, bytes: number, only: { algorithm?: Algorithm; protocol?: Protocol } = {}): { algorithm: Algorithm; protocol: Protocol; time: number } {
    let best: { algorithm: Algorithm; protocol: Protocol; time: number } | undefined;
    for (const a of ALGORITHMS) {
      if (only.algorithm && a !== only.algorithm) continue;
      for (const p of PROTOCOLS) {
        if (only.protocol && p !== only.protocol) continue;
        const t = this.time(coll, a, p, bytes);
        if (t < (best?.time ?? Infinity)) best = { algorithm: a, protocol: p, time: t };
      }
    }
    if (!best) {
      const wanted = [only.algorithm, only.protocol].filter(Boolean).join('/');
      throw new InputError(`${this.c.id} has no enabled ${wanted} ${coll} on this communicator (LL128 needs NVLink inside nodes, NICs behind PCIe switches and a Volta or Ampere GPU; trees exist for all-reduce only)`);
    }
    return best;
  }

  private model(coll: Collective, a: Algorithm, p: Protocol, sameChannels: boolean): AlgoCost {
    const { c, system } = this;
    const { nRanks, nNodes } = this.layout;
    const ppn = nRanks / nNodes;
    const ampere = system.computeCapability === 80;
    const scale = nNodes === 1 ? 'oneNode' : nNodes === 2 ? 'twoNodes' : 'moreNodes';
    const llMaxBw = nNodes === 1 ? c.llMaxBw.oneNode[ampere ? 'ampere' : 'volta'] : c.llMaxBw[scale as 'twoNodes'][system.cpuVendor];
    const perChMaxTreeBw = c.perChannelMaxTreeBw[ampere ? 'ampere' : 'volta'][scale];
    const nsteps = coll === 'all-reduce' ? 2 * (nRanks - 1) : coll === 'reduce-scatter' || coll === 'all-gather' ? nRanks - 1 : nRanks;
    const nInterSteps = coll === 'all-reduce' ? (nNodes > 1 ? 2 * nNodes : 0) : coll === 'reduce-scatter' || coll === 'all-gather' ? nNodes - 1 : nNodes;
    const graph = a === 'ring' ? this.ring : this.tree;
    const r = c.ratios;

    const speed = nNodes <= 2 ? graph.speedIntra : graph.speedInter;
    let busBw = graph.nChannels * speed;
    if (ampere) busBw = Math.min(busBw, c.ampereBusBwCap);
    if (a === 'ring' && p === 'LL') busBw = Math.min(llMaxBw, busBw * (nNodes > 1 || coll === 'all-reduce' || coll === 'reduce' ? r.ringLL : r.ringLLOther));
    if (a === 'ring' && p === 'LL128') busBw = Math.min(busBw * (ppn < 2 ? r.ringLL128OneGpuPerNode : r.ringLL128), c.perChannelMaxLL128Bw * graph.nChannels);
    if (a === 'tree') busBw = Math.min(busBw * r.tree, graph.nChannels * perChMaxTreeBw);
    if (a === 'tree' && p === 'LL') busBw = Math.min(busBw * r.treeLL, llMaxBw);
    if (a === 'tree' && p === 'LL128') busBw = Math.min(busBw * (nNodes === 1 ? r.treeLL128OneNode : r.treeLL128MultiNode), c.perChannelMaxLL128Bw * graph.nChannels);
    // LL128 is on by default only for Volta/Ampere with NVLink inside nodes and NICs within a PCIe switch tree.
    const ll128 = this.layout.intraNvlink && (this.layout.netPath === 'PIX' || this.layout.netPath === 'PXB') && (system.computeCapability === 70 || ampere);
    if (p === 'LL128' && !ll128) busBw = 0;
    const algBw = busBw * (a === 'ring' ? nRanks / nsteps : 0.5);

    const intraHw = this.layout.intraNvlink ? 'nvlink' : 'pci';
    const hw = nNodes === 1 ? intraHw : 'net';
    let latency = c.baseLatency[a][p];
    let intraLat = c.hwLatency[intraHw][a][p];
    const interLat = c.hwLatency.net[a][p];
    if (nNodes > 1 && p === 'LL') intraLat *= c.llIntraFactorMultiNode;
    if (a === 'ring') {
      if (coll === 'reduce' || coll === 'broadcast') {
        // "Add some chunk latency, waiting for proper chunk modeling"
        latency += sameChannels ? c.hwLatency[hw][a][p] : nsteps * c.hwLatency[hw][p === 'Simple' ? 'tree' : a][p];
      } else {
        latency += (nsteps - nInterSteps) * intraLat + nInterSteps * interLat;
      }
    } else {
      latency += 2 * ((Math.floor(nRanks / nNodes) - 1) * intraLat + log2i(nNodes) * interLat);
    }
    return { busBw, algBw, latency };
  }
}

/** ⌊log2 n⌋ for n ≥ 1, and 0 for n < 2 (NCCL's log2i). */
export function log2i(n: number): number {
  let l = 0;
  while (n >= 2) {
    n = Math.floor(n / 2);
    l++;
  }
  return l;
}
