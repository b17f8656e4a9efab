import { InputError } from '../../common/errors.js';
import type { Cluster } from '../../hardware/cluster.js';
import type { NcclConstants } from '../../hardware/nccl-profile.js';
import { pcieRawBandwidth } from '../../hardware/pcie.js';

/**
 * How NCCL sees the machine it runs on — what its topology detection would report. NCCL rates links by its own
 * constants (22 GB/s per A100 NVLink, 24 GB/s for a Gen4 x16 PCIe link, the NIC's port speed), not by what the
 * links achieve; the simulator uses these numbers only to choose algorithms, protocols and channel counts.
 */
export interface NcclSystem {
  computeCapability: number;
  cpuVendor: 'amd' | 'intel';
  /** NCCL's width of one GPU's NVLink connection (all its links), bytes/s; 0 without NVLink. */
  nvlinkWidth: number;
  /** NCCL's width of a PCIe link between a GPU or a NIC and its switch, bytes/s. */
  pciWidth: number;
  /** NCCL's width of one NIC port, bytes/s. */
  netWidth: number;
}

export interface NcclHardware {
  gpuId: string;
  nvlinkLinks: number;
  /** The PCIe links on a GPU's path to its NIC (the GPU's and the NIC's); NCCL takes the narrowest. */
  pcie: { generation: number; lanes: number }[];
  cpuId: string;
  /** NIC port signalling rate, bytes/s. */
  nicLineRate: number;
}

/** NCCL's view of a loaded cluster's servers. */
export function clusterNcclSystem(c: NcclConstants, cluster: Cluster): NcclSystem {
  const { gpu, nic } = cluster;
  // The GPU spec gives its PCIe rate, not its width: lanes = rate / one lane's raw rate.
  const gpuLanes = Math.round(gpu.pcieBandwidth / (pcieRawBandwidth(gpu.pcieGeneration, 1) ?? gpu.pcieBandwidth));
  return ncclSystem(c, {
    gpuId: gpu.id,
    nvlinkLinks: gpu.nvlinkLinks,
    pcie: [{ generation: gpu.pcieGeneration, lanes: gpuLanes }, { generation: nic.pcieGeneration, lanes: nic.pcieLanes }],
    cpuId: cluster.cpu.id,
    nicLineRate: nic.lineRate,
  });
}

export function ncclSystem(c: NcclConstants, hw: NcclHardware): NcclSystem {
  const cc = c.computeCapability[hw.gpuId];
  if (cc === undefined) {
    throw InputError.field(c.id, 'hardware.computeCapability', `an entry for the GPU profile in use (known: ${Object.keys(c.computeCapability).join(', ')})`, hw.gpuId);
  }
  const vendor = c.cpuVendor[hw.cpuId];
  if (vendor === undefined) {
    throw InputError.field(c.id, 'hardware.cpuVendor', `an entry for the CPU profile in use (known: ${Object.keys(c.cpuVendor).join(', ')})`, hw.cpuId);
  }
  const pciWidth = Math.min(
    ...hw.pcie.map(({ generation, lanes }) => {
      const lane = c.graph.pciLaneWidth[String(generation)];
      if (lane === undefined) throw InputError.field(c.id, 'graph.pciLaneWidth', `an entry for PCIe generation ${generation}`, Object.keys(c.graph.pciLaneWidth));
      return lanes * lane;
    }),
  );
  // NCCL 2.10.3 knows NVLink widths up to SM80; newer GPUs get the newest width it has.
  const widths = Object.keys(c.graph.nvlinkWidthPerLink).map(Number).sort((a, b) => a - b);
  const smKey = widths.filter((k) => k <= cc).pop() ?? widths[0]!;
  return {
    computeCapability: cc,
    cpuVendor: vendor,
    nvlinkWidth: hw.nvlinkLinks * c.graph.nvlinkWidthPerLink[String(smKey)]!,
    pciWidth,
    netWidth: hw.nicLineRate,
  };
}
