/** Accumulates devices and directed links with dense ids; the pieces of a Topology before routes exist. */
import type { Device, DeviceKind, Link, LinkClass } from './topology.js';

export interface LinkSpec {
  cls: LinkClass;
  /** Payload capacity per direction, bytes/s. */
  bandwidth: number;
  /** Signalling rate per direction, bytes/s. */
  lineRate: number;
  /** Latency of the hop, s. */
  latency: number;
}

export class TopologyBuilder {
  readonly devices: Device[] = [];
  readonly links: Link[] = [];

  device(kind: DeviceKind, name: string, node: number): number {
    const id = this.devices.length;
    this.devices.push({ id, kind, name, node });
    return id;
  }

  /** One directed link; `tag` tells parallel cables apart in the name. */
  link(src: number, dst: number, spec: LinkSpec, tag = ''): number {
    const id = this.links.length;
    const name = `${this.devices[src]!.name}->${this.devices[dst]!.name}${tag}`;
    this.links.push({ id, src, dst, name, ...spec });
    return id;
  }

  /** A cable: one link each way. `back` overrides the spec of the dst→src direction (e.g. its latency). */
  duplex(a: number, b: number, spec: LinkSpec, back: Partial<LinkSpec> = {}, tag = ''): [number, number] {
    return [this.link(a, b, spec, tag), this.link(b, a, { ...spec, ...back }, tag)];
  }
}
