import type { Device, DeviceKind, Link, LinkClass, Topology } from '../../../src/hardware/topology.js';

/** Small synthetic topologies for the simulator's hand-computed tests. Numbers are chosen, not measured. */
class Builder {
  devices: Device[] = [];
  links: Link[] = [];
  device(kind: DeviceKind, name: string, node: number): number {
    const id = this.devices.length;
    this.devices.push({ id, kind, name, node });
    return id;
  }
  /** One cable: a link in each direction. Returns [forward, backward] link ids. */
  cable(a: number, b: number, cls: LinkClass, bandwidth: number, latency: number): [number, number] {
    const add = (src: number, dst: number) => {
      const id = this.links.length;
      this.links.push({ id, src, dst, cls, bandwidth, latency, name: `${this.devices[src]!.name}->${this.devices[dst]!.name}` });
      return id;
    };
    return [add(a, b), add(b, a)];
  }
}

/** p GPUs, each joined to one switch by a link of `bw` B/s each way: per-rank bandwidth B = bw. */
export function star(p: number, bw: number, latency = 0, cls: LinkClass = 'nvlink'): Topology {
  const b = new Builder();
  const sw = b.device('nvswitch', 'sw', 0);
  const gpus: number[] = [];
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < p; i++) {
    const g = b.device('gpu', `gpu${i}`, 0);
    gpus.push(g);
    const [u, d] = b.cable(g, sw, cls, bw, latency);
    up.push(u);
    down.push(d);
  }
  return {
    name: `star${p}`,
    nodes: 1,
    gpusPerNode: p,
    devices: b.devices,
    links: b.links,
    gpus,
    route: (s, d) => (s === d ? [] : [up[s]!, down[d]!]),
  };
}

export interface ClusterOptions {
  nodes: number;
  gpusPerNode?: number;
  /** HCAs per node; GPUs are spread evenly over them, adjacent GPUs sharing one (two per HCA for 8/4). */
  hcasPerNode?: number;
  nvlinkBw?: number;
  pcieBw?: number;
  hcaBw?: number;
  /** Number of IB switches; HCA k of every node cables to switch k % switches. */
  switches?: number;
  /** Capacity of the trunk between consecutive IB switches, per direction. */
  trunkBw?: number;
  latency?: number;
}

/**
 * A scaled-down NeoX-like cluster: per node an NVSwitch (one device, a link per GPU each way), PCIe switches
 * each holding gpusPerNode/hcas GPUs and one HCA, HCAs cabled alternately to IB switches joined by a trunk.
 */
export function cluster(o: ClusterOptions): Topology & { hcaOfGpu: number[]; switchOfHca: number[] } {
  const G = o.gpusPerNode ?? 8;
  const H = o.hcasPerNode ?? 4;
  const S = o.switches ?? 2;
  const nvBw = o.nvlinkBw ?? 300e9;
  const pcieBw = o.pcieBw ?? 32e9;
  const hcaBw = o.hcaBw ?? 25e9;
  const trunkBw = o.trunkBw ?? 16 * 25e9;
  const lat = o.latency ?? 0;
  const b = new Builder();
  const ibsw = Array.from({ length: S }, (_, s) => b.device('ib-switch', `ib-switch${s}`, -1));
  const trunk: [number, number][] = []; // trunk[s] joins switch s and s+1
  for (let s = 0; s + 1 < S; s++) trunk.push(b.cable(ibsw[s]!, ibsw[s + 1]!, 'trunk', trunkBw, lat));
  const gpus: number[] = [];
  const nvUp: number[] = [];
  const nvDown: number[] = [];
  const pcieUp: number[] = []; // gpu -> pcie switch
  const pcieDown: number[] = [];
  const hcaOfGpu: number[] = [];
  const switchOfHca: number[] = [];
  const toHca: number[] = []; // pcie switch -> hca, per global hca
  const fromHca: number[] = [];
  const hcaUp: number[] = []; // hca -> ib switch
  const hcaDown: number[] = [];
  for (let n = 0; n < o.nodes; n++) {
    const nvs = b.device('nvswitch', `node${n}/nvswitch`, n);
    const psw: number[] = [];
    for (let h = 0; h < H; h++) {
      const p = b.device('pcie-switch', `node${n}/pcie-sw${h}`, n);
      psw.push(p);
      const hca = b.device('hca', `node${n}/hca${h}`, n);
      const [t, f] = b.cable(p, hca, 'pcie', pcieBw, lat);
      toHca.push(t);
      fromHca.push(f);
      const sw = h % S;
      switchOfHca.push(sw);
      const [u, d] = b.cable(hca, ibsw[sw]!, 'hca', hcaBw, lat);
      hcaUp.push(u);
      hcaDown.push(d);
    }
    for (let i = 0; i < G; i++) {
      const g = b.device('gpu', `node${n}/gpu${i}`, n);
      gpus.push(g);
      const [u, d] = b.cable(g, nvs, 'nvlink', nvBw, lat);
      nvUp.push(u);
      nvDown.push(d);
      const h = Math.floor((i * H) / G);
      hcaOfGpu.push(n * H + h);
      const [pu, pd] = b.cable(g, psw[h]!, 'pcie', pcieBw, lat);
      pcieUp.push(pu);
      pcieDown.push(pd);
    }
  }
  const trunkPath = (a: number, z: number): number[] => {
    const path: number[] = [];
    for (let s = a; s < z; s++) path.push(trunk[s]![0]);
    for (let s = a; s > z; s--) path.push(trunk[s - 1]![1]);
    return path;
  };
  const route = (s: number, d: number): number[] => {
    if (s === d) return [];
    if (Math.floor(s / G) === Math.floor(d / G)) return [nvUp[s]!, nvDown[d]!];
    const hs = hcaOfGpu[s]!;
    const hd = hcaOfGpu[d]!;
    return [pcieUp[s]!, toHca[hs]!, hcaUp[hs]!, ...trunkPath(switchOfHca[hs]!, switchOfHca[hd]!), hcaDown[hd]!, fromHca[hd]!, pcieDown[d]!];
  };
  return { name: `toy${o.nodes}x${G}`, nodes: o.nodes, gpusPerNode: G, devices: b.devices, links: b.links, gpus, route, hcaOfGpu, switchOfHca };
}

/** Bare links for network tests: capacities given, no devices that matter. */
export function links(capacities: number[], latency = 0): Topology {
  const b = new Builder();
  const a = b.device('gpu', 'a', 0);
  const z = b.device('gpu', 'z', 0);
  capacities.forEach((bw) => b.cable(a, z, 'nvlink', bw, latency));
  // Keep only the forward direction of each cable: link i = capacities[i].
  const fwd = b.links.filter((_, i) => i % 2 === 0).map((l, i) => ({ ...l, id: i }));
  return { name: 'links', nodes: 1, gpusPerNode: 2, devices: b.devices, links: fwd, gpus: [a, z], route: () => [] };
}
