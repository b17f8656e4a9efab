/**
 * A cluster ready for simulation: the profiles it is made of (as SI specs), its topology graph and routes,
 * and the what-if overrides a planner needs (node count, GPU model, HCAs per node, trunk width).
 */
import { InputError } from '../common/errors.js';
import { buildFatTreeFabric, checkFatTreeSize } from './fabric/fat-tree.js';
import type { Fabric, FabricSummary } from './fabric/fabric.js';
import { buildTwoSwitchFabric, checkTwoSwitchSize } from './fabric/two-switch.js';
import { buildNode, type NodeWiring } from './node-builder.js';
import { MODELLED_PCIE_GENERATIONS, pcieRawBandwidth } from './pcie.js';
import { type LoadedProfile, resolveProfile, resolveRef, shippedIds } from './profiles.js';
import { type ServerLayout, serverLayout } from './server-layout.js';
import {
  type CpuSpec, type GpuSpec, type IbSwitchSpec, type NicSpec, type PcieSwitchSpec, type ServerSpec, type Sources,
  cpuSpec, gpuSpec, ibSwitchSpec, nicSpec, pcieSwitchSpec, serverSpec,
} from './specs.js';
import { TopologyBuilder } from './topology-builder.js';
import type { Topology } from './topology.js';

export interface ClusterOverrides {
  nodes?: number;
  /** 'a100-40gb' | 'a100-80gb' | 'h100', a GPU profile id, or a path to a GPU profile. */
  gpu?: string;
  nicsPerNode?: number;
  /** Two-switch fabrics only. */
  trunkLinks?: number;
}

/** Short GPU names a planner types, mapped to shipped profile ids. */
export const GPU_ALIASES: Record<string, string> = {
  'a100-40gb': 'a100-sxm4-40gb',
  'a100-80gb': 'a100-sxm4-80gb',
  h100: 'h100-sxm5-80gb',
};

export interface Cluster {
  /** Profile id plus the overrides applied, e.g. "supermicro12 (nodes=16)". */
  name: string;
  profileId: string;
  description: string;
  topology: Topology;
  gpu: GpuSpec;
  cpu: CpuSpec;
  nic: NicSpec;
  ibSwitch: IbSwitchSpec;
  pcieSwitch: PcieSwitchSpec;
  server: ServerSpec;
  layout: ServerLayout;
  fabric: FabricSummary;
  nodes: number;
  gpusPerNode: number;
  hcasPerNode: number;
  gpuCount: number;
  hcaCount: number;
  overrides: ClusterOverrides;
  /** Node of global GPU g. */
  nodeOfGpu(g: number): number;
  /** Global HCA index (node · hcasPerNode + local) GPU g sends and receives inter-node traffic through. */
  hcaOfGpu(g: number): number;
  /** Device id of global HCA h. */
  hcaDevice(h: number): number;
  /** Citations by "<profile kind>.<field>", e.g. "nic.achievable", "cluster.fabric.trunkLinks". */
  sources: Sources;
}

/** Loads a shipped cluster by id or a cluster profile file, applies overrides and builds its topology. */
export function loadCluster(nameOrFile: string, overrides: ClusterOverrides = {}): Cluster {
  const cluster = resolveProfile('cluster', nameOrFile, 'cluster', 'name');
  const c = cluster.data;
  const where = cluster.id;
  const server = resolveRef(cluster, '/server', c.server, 'server');
  const s = server.data;
  const gpuProfile = overrides.gpu !== undefined ? gpuOverride(overrides.gpu, where) : resolveRef(server, '/gpu', s.gpu, 'gpu');
  const cpuProfile = resolveRef(server, '/cpu', s.cpu, 'cpu');
  const nicProfile = resolveRef(server, '/nic', s.nic, 'nic');
  const pcieProfile = resolveRef(server, '/pcieSwitch', s.pcieSwitch, 'pcie-switch');
  const switchProfile = resolveRef(cluster, '/fabric/switch', c.fabric.switch, 'ib-switch');

  const nodes = overrides.nodes ?? c.nodes.value;
  checkWhole(where, 'nodes', nodes);
  if (overrides.nicsPerNode !== undefined) checkWhole(where, 'nicsPerNode', overrides.nicsPerNode);
  if (overrides.trunkLinks !== undefined) {
    if (c.fabric.type !== 'two-switch') {
      throw InputError.field(where, 'trunkLinks', 'no trunk override (only two-switch fabrics have a trunk)', overrides.trunkLinks);
    }
    checkWhole(where, 'trunkLinks', overrides.trunkLinks);
  }
  const layout = serverLayout(s.pcieSwitches.value, server.display, '/pcieSwitches/value', overrides.nicsPerNode, where);

  const gpu = gpuSpec(gpuProfile.data);
  const cpu = cpuSpec(cpuProfile.data);
  const nic = nicSpec(nicProfile.data);
  const pcieSwitch = pcieSwitchSpec(pcieProfile.data);
  const ibSwitch = ibSwitchSpec(switchProfile.data);
  const serverNumbers = serverSpec(s);
  const nicPcieRate = pcieRawBandwidth(nic.pcieGeneration, nic.pcieLanes);
  if (nicPcieRate === null) {
    throw InputError.field(nicProfile.display, '/pcie/generation/value', `a PCIe generation neox-sim models (${MODELLED_PCIE_GENERATIONS.join(', ')})`, nic.pcieGeneration);
  }

  const trunkLinks = overrides.trunkLinks ?? c.fabric.trunkLinks?.value ?? 0;
  // Size checks first: a node count the fabric cannot cable must fail before anything is built.
  if (c.fabric.type === 'two-switch') checkTwoSwitchSize(where, nodes, layout.hcasPerNode, trunkLinks, ibSwitch);
  else checkFatTreeSize(where, nodes, layout.hcasPerNode, ibSwitch);

  const b = new TopologyBuilder();
  const wiring: NodeWiring[] = [];
  for (let n = 0; n < nodes; n++) {
    wiring.push(buildNode(b, n, {
      gpu, cpu, nic, pcieSwitch, nicPcieRate, layout,
      nvswitchHopLatency: serverNumbers.nvswitchHopLatency,
      xgmiBandwidth: serverNumbers.xgmiBandwidth,
      xgmiLatency: serverNumbers.xgmiLatency,
    }));
  }
  const hcas = wiring.flatMap((w) => w.hcas);
  const fabricInput = { builder: b, hcas, nodes, hcasPerNode: layout.hcasPerNode, ibSwitch, nic, where };
  const fabric: Fabric = c.fabric.type === 'two-switch'
    ? buildTwoSwitchFabric(fabricInput, trunkLinks)
    : buildFatTreeFabric(fabricInput);

  const G = layout.gpusPerNode;
  const H = layout.hcasPerNode;
  const nodeOfGpu = (g: number) => Math.floor(g / G);
  const hcaOfGpu = (g: number) => nodeOfGpu(g) * H + layout.hcaOfGpu[g % G]!;
  const applied = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as ClusterOverrides;
  const suffix = Object.entries(applied).map(([k, v]) => `${k}=${k === 'gpu' ? gpu.id : v}`).join(', ');
  const topology = makeTopology(suffix ? `${where} (${suffix})` : where, nodes, G, b, wiring, fabric, hcaOfGpu);

  return {
    name: topology.name,
    profileId: cluster.id,
    description: c.name,
    topology,
    gpu, cpu, nic, pcieSwitch, ibSwitch,
    server: serverNumbers,
    layout,
    fabric: fabric.summary,
    nodes,
    gpusPerNode: G,
    hcasPerNode: H,
    gpuCount: nodes * G,
    hcaCount: nodes * H,
    overrides: applied,
    nodeOfGpu,
    hcaOfGpu,
    hcaDevice: (h) => hcas[h]!,
    sources: {
      ...prefixed('cluster', {
        nodes: c.nodes.source,
        fabric: c.fabric.source,
        ...(c.fabric.trunkLinks ? { 'fabric.trunkLinks': c.fabric.trunkLinks.source } : {}),
      }),
      ...prefixed('server', { ...serverNumbers.sources, pcieSwitches: s.pcieSwitches.source }),
      ...prefixed('gpu', gpu.sources),
      ...prefixed('cpu', cpu.sources),
      ...prefixed('nic', nic.sources),
      ...prefixed('pcieSwitch', pcieSwitch.sources),
      ...prefixed('ibSwitch', ibSwitch.sources),
    },
  };
}

/** Routes kept per topology: enough for every ring and tree of a 1,024-GPU collective, ~25 MB at most. */
const ROUTE_CACHE_LIMIT = 1 << 16;

function makeTopology(
  name: string, nodes: number, gpusPerNode: number, b: TopologyBuilder, wiring: NodeWiring[], fabric: Fabric,
  hcaOfGpu: (g: number) => number,
): Topology {
  const cache = new Map<number, number[]>();
  const gpus = wiring.flatMap((w) => w.gpus);
  const N = gpus.length;
  const route = (src: number, dst: number): number[] => {
    if (!(Number.isInteger(src) && Number.isInteger(dst) && src >= 0 && dst >= 0 && src < N && dst < N)) {
      throw new RangeError(`route(${src}, ${dst}): GPU indices must be integers in 0..${N - 1}`);
    }
    const key = src * N + dst;
    let hit = cache.get(key);
    if (hit) return hit;
    const ns = Math.floor(src / gpusPerNode);
    const nd = Math.floor(dst / gpusPerNode);
    const ls = src % gpusPerNode;
    const ld = dst % gpusPerNode;
    if (src === dst) hit = [];
    else if (ns === nd) hit = [wiring[ns]!.gpuToNvswitch[ls]!, wiring[nd]!.nvswitchToGpu[ld]!];
    else hit = [...wiring[ns]!.gpuToHca[ls]!, ...fabric.route(hcaOfGpu(src), hcaOfGpu(dst)), ...wiring[nd]!.hcaToGpu[ld]!];
    Object.freeze(hit);
    if (cache.size >= ROUTE_CACHE_LIMIT) cache.clear(); // routes are pure: dropping them only costs time
    cache.set(key, hit);
    return hit;
  };
  return { name, nodes, gpusPerNode, devices: b.devices, links: b.links, gpus, route };
}

function gpuOverride(gpu: string, where: string): LoadedProfile<'gpu'> {
  try {
    return resolveProfile('gpu', GPU_ALIASES[gpu] ?? gpu, where, 'gpu');
  } catch (err) {
    if (!(err instanceof InputError) || !err.message.startsWith(`${where}: gpu:`)) throw err;
    const names = [...Object.keys(GPU_ALIASES), ...shippedIds('gpu')].join(', ');
    throw InputError.field(where, 'gpu', `one of ${names}, or a path to a .json gpu profile`, gpu);
  }
}

function checkWhole(where: string, field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw InputError.field(where, field, 'a whole number of at least 1', v);
}

function prefixed(prefix: string, sources: Sources): Sources {
  return Object.fromEntries(Object.entries(sources).map(([k, v]) => [`${prefix}.${k}`, v]));
}
