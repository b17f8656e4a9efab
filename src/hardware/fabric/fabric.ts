/** What the fabric builders share: the HCAs they connect, the link specs they use, what they return. */
import type { FabricType } from '../profile-types.js';
import type { IbSwitchSpec, NicSpec } from '../specs.js';
import type { LinkSpec, TopologyBuilder } from '../topology-builder.js';

export interface FabricInput {
  builder: TopologyBuilder;
  /** Device id of every HCA, by global HCA index = node · hcasPerNode + local index. */
  hcas: number[];
  nodes: number;
  hcasPerNode: number;
  ibSwitch: IbSwitchSpec;
  nic: NicSpec;
  /** Names the cluster (and override) in error messages. */
  where: string;
}

export interface FabricSummary {
  type: FabricType;
  /** Switch counts per level, e.g. { switch: 2 } or { leaf: 8, spine: 4 }. */
  switchesByLevel: Record<string, number>;
  /** Two-switch fabrics: parallel links between the switches. */
  trunkLinks?: number;
  /** Fat trees: 2 or 3 switch levels. */
  levels?: number;
  /** How routes pick among parallel links, in words. */
  routing: string;
}

export interface Fabric {
  summary: FabricSummary;
  /** IB switch device ids. */
  switches: number[];
  /** Link ids from HCA `src` to HCA `dst` (global HCA indices, src ≠ dst) through the switches. */
  route(src: number, dst: number): number[];
}

/** An HCA's cable to its switch: NIC limits on one side, switch port limits on the other. */
export function hcaCable(inp: FabricInput): { up: LinkSpec; down: LinkSpec } {
  const { nic, ibSwitch } = inp;
  const base = {
    cls: 'hca' as const,
    lineRate: Math.min(nic.lineRate, ibSwitch.portRate),
    bandwidth: Math.min(nic.achievable, ibSwitch.portPayload),
  };
  return { up: { ...base, latency: ibSwitch.latency }, down: { ...base, latency: nic.latency } };
}

/** A switch-to-switch cable; latency is the forwarding latency of the switch it enters. */
export function switchCable(inp: FabricInput, cls: 'trunk' | 'switch-port'): LinkSpec {
  const s = inp.ibSwitch;
  return { cls, lineRate: s.portRate, bandwidth: s.portPayload, latency: s.latency };
}
