/**
 * The cluster as the simulator sees it: devices joined by directed links, each with a capacity and a latency,
 * and routes between GPUs as lists of links. All numbers are SI (bytes/s, seconds).
 * Built from the hardware profiles by the topology builder; consumed by src/sim (network, collectives).
 */
export type DeviceKind = 'gpu' | 'nvswitch' | 'pcie-switch' | 'cpu' | 'hca' | 'ib-switch';

/** Link classes used to report utilisation (issue: NVSwitch, PCIe, HCA, switch ports, trunk). */
export type LinkClass = 'nvlink' | 'pcie' | 'xgmi' | 'hca' | 'switch-port' | 'trunk';

export interface Device {
  id: number;
  kind: DeviceKind;
  /** Human name, e.g. "node3/gpu5", "node3/pcie-sw2", "ib-switch1". */
  name: string;
  /** Node index for devices inside a server; -1 for fabric devices (IB switches). */
  node: number;
}

export interface Link {
  id: number;
  src: number;
  dst: number;
  cls: LinkClass;
  /** Payload capacity in this direction, bytes/s. */
  bandwidth: number;
  /** Signalling (line) rate in this direction, bytes/s, where it differs from the payload capacity. */
  lineRate?: number;
  /** One-way latency of this hop, seconds. */
  latency: number;
  /** Human name, e.g. "node3/gpu5->node3/pcie-sw2". */
  name: string;
}

export interface Topology {
  name: string;
  nodes: number;
  gpusPerNode: number;
  devices: Device[];
  /** Directed: every physical cable or port appears once per direction. `links[i].id === i`. */
  links: Link[];
  /** Device id of GPU g, where g = node·gpusPerNode + local index. */
  gpus: number[];
  /** Link ids a message from GPU `src` to GPU `dst` (global GPU indices) traverses, in order. Empty if src === dst. */
  route(src: number, dst: number): number[];
}
