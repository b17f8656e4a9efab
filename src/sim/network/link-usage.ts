import type { LinkClass } from '../../hardware/topology.js';
import type { Network } from './network.js';

export interface LinkUse {
  link: number;
  name: string;
  cls: LinkClass;
  /** Bytes carried, and seconds during which the link carried anything. */
  bytes: number;
  busy: number;
  /** bytes / (capacity · elapsed). */
  utilisation: number;
}

export interface ClassUse {
  links: number;
  bytes: number;
  /** bytes / (Σ capacity · elapsed) over the class's links. */
  utilisation: number;
}

/**
 * How the links were used over [0, now]: totals per link class and the busiest links (by bytes carried relative
 * to capacity; ties by link id), for utilisation reports.
 */
export function linkUsage(net: Network, top = 10): { elapsed: number; byClass: Partial<Record<LinkClass, ClassUse>>; busiest: LinkUse[] } {
  net.flush();
  const elapsed = net.engine.now;
  const links = net.topology.links;
  const byClass: Partial<Record<LinkClass, ClassUse & { capacity: number }>> = {};
  const used: LinkUse[] = [];
  for (const l of links) {
    const bytes = net.linkBytes[l.id]!;
    const c = (byClass[l.cls] ??= { links: 0, bytes: 0, utilisation: 0, capacity: 0 });
    c.links++;
    c.bytes += bytes;
    c.capacity += net.capacity[l.id]!;
    if (bytes > 0) {
      used.push({ link: l.id, name: l.name, cls: l.cls, bytes, busy: net.linkBusy[l.id]!, utilisation: elapsed > 0 ? bytes / (net.capacity[l.id]! * elapsed) : 0 });
    }
  }
  const classes: Partial<Record<LinkClass, ClassUse>> = {};
  for (const [cls, c] of Object.entries(byClass) as [LinkClass, ClassUse & { capacity: number }][]) {
    classes[cls] = { links: c.links, bytes: c.bytes, utilisation: elapsed > 0 ? c.bytes / (c.capacity * elapsed) : 0 };
  }
  used.sort((a, b) => b.utilisation - a.utilisation || a.link - b.link);
  return { elapsed, byClass: classes, busiest: used.slice(0, top) };
}
