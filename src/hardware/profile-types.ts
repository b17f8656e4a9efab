/** The JSON shapes of hardware profiles, as the schemas in hardware-profiles/schema/ accept them. */

/** A sourced value: a quantity string ("1555 GB/s"), a count, a fraction or a list, with its citation. */
export interface Sourced<T = string> {
  value: T;
  source: string;
}

export interface GpuProfile {
  kind: 'gpu';
  id: string;
  name: string;
  tensor: { fp16: Sourced; bf16: Sourced; tf32: Sourced; fp8?: Sourced; fp64?: Sourced };
  vector: { fp32: Sourced; fp64: Sourced };
  hbm: { capacity: Sourced; usable?: Sourced; bandwidth: Sourced };
  sms: Sourced<number>;
  l2: Sourced;
  clocks: { boost: Sourced; base?: Sourced };
  nvlink: { generation: Sourced<number>; links: Sourced<number>; bandwidth: Sourced };
  pcie: { generation: Sourced<number>; lanes: Sourced<number>; bandwidth: Sourced };
  calibration: {
    gemmMaxAchievable: Sourced;
    gemmTiles: Sourced<string[]>;
    hbmEfficiency: Sourced<number>;
    nvlinkPayload: Sourced;
    flashAttentionForward?: Sourced<number>;
    flashAttentionBackward?: Sourced<number>;
  };
  runtime: { cudaContext: Sourced; cublasWorkspace: Sourced; cublasHandles: Sourced<number> };
}

export interface CpuProfile {
  kind: 'cpu';
  id: string;
  name: string;
  cores: Sourced<number>;
  threads: Sourced<number>;
  clocks: { base: Sourced; boost: Sourced };
  l3: Sourced;
  memoryChannels: Sourced<number>;
  memoryBandwidth: Sourced;
  pcieLanes: Sourced<number>;
  rootComplexLatency: Sourced;
}

export interface NicProfile {
  kind: 'nic';
  id: string;
  name: string;
  lineRate: Sourced;
  achievable: Sourced;
  latency: Sourced;
  pcie: { generation: Sourced<number>; lanes: Sourced<number> };
}

export interface IbSwitchProfile {
  kind: 'ib-switch';
  id: string;
  name: string;
  ports: Sourced<number>;
  portRate: Sourced;
  portPayload: Sourced;
  latency: Sourced;
}

export interface PcieSwitchProfile {
  kind: 'pcie-switch';
  id: string;
  name: string;
  generation: Sourced<number>;
  portLanes: Sourced<number>;
  portRate: Sourced;
  portPayload: Sourced;
  latency: Sourced;
}

export interface PcieSwitchSlot {
  socket: number;
  gpus: number[];
  hcas: number[];
}

export interface ServerProfile {
  kind: 'server';
  id: string;
  name: string;
  gpu: string;
  nvswitch: { chips: Sourced<number>; hopLatency: Sourced };
  cpu: string;
  xgmi: { links: Sourced<number>; bandwidthPerLink: Sourced; latency: Sourced };
  nic: string;
  pcieSwitch: string;
  pcieSwitches: Sourced<PcieSwitchSlot[]>;
}

export type FabricType = 'two-switch' | 'fat-tree';

export interface ClusterProfile {
  kind: 'cluster';
  id: string;
  name: string;
  server: string;
  nodes: Sourced<number>;
  fabric: { type: FabricType; switch: string; trunkLinks?: Sourced<number>; source: string };
}

/** NCCL cost-model constants; their shape and SI conversion live with the loader in nccl-profile.ts. */
export interface NcclProfileHeader {
  kind: 'nccl';
  id: string;
  name: string;
}

export interface ProfileByKind {
  gpu: GpuProfile;
  cpu: CpuProfile;
  nic: NicProfile;
  'ib-switch': IbSwitchProfile;
  'pcie-switch': PcieSwitchProfile;
  server: ServerProfile;
  cluster: ClusterProfile;
  nccl: NcclProfileHeader;
}
