import { Engine } from '../../../src/sim/engine/engine.js';
import { Network } from '../../../src/sim/network/network.js';
import { Collectives, type CollectiveRequest, type CollectiveResult } from '../../../src/sim/collectives/collectives.js';
import { loadNcclProfile } from '../../../src/hardware/nccl-profile.js';
import type { NcclSystem } from '../../../src/sim/collectives/nccl-system.js';
import type { Topology } from '../../../src/hardware/topology.js';

export const nccl = loadNcclProfile('nccl-2.10.3');

/** NCCL's view of an A100 node with EPYC CPUs, Gen4 x16 PCIe and HDR NICs: 12 × 22, 24 and 25 GB/s. */
export const a100System: NcclSystem = { computeCapability: 80, cpuVendor: 'amd', nvlinkWidth: 264e9, pciWidth: 24e9, netWidth: 25e9 };

/** Runs one collective alone on a fresh network and returns its result. */
export function runAlone(topology: Topology, req: Omit<CollectiveRequest, 'onDone'>, system = a100System): CollectiveResult {
  const engine = new Engine();
  const colls = new Collectives(new Network(engine, topology), nccl, system);
  let result: CollectiveResult | undefined;
  colls.run({ ...req, onDone: (r) => (result = r) });
  engine.run();
  return result!;
}

/** Runs several collectives started together; returns their results in request order. */
export function runTogether(topology: Topology, reqs: Omit<CollectiveRequest, 'onDone'>[], system = a100System): CollectiveResult[] {
  const engine = new Engine();
  const colls = new Collectives(new Network(engine, topology), nccl, system);
  const results: CollectiveResult[] = [];
  reqs.forEach((req, i) => colls.run({ ...req, onDone: (r) => (results[i] = r) }));
  engine.run();
  return results;
}
