/**
 * A rail-optimised, non-blocking fat tree of R-port switches (DGX SuperPOD style). Every leaf gives half its
 * ports to HCAs and half to the level above. HCA r of every node is cabled to a rail-r leaf, d = R/2 nodes per
 * leaf, so same-rail traffic between nodes under one leaf never leaves it.
 *
 * - Up to R leaves: two levels. S spines (the smallest divisor of d with S·R ≥ leaves·d), each leaf joined to
 *   every spine by d/S parallel links.
 * - More leaves: three levels. Pods of d leaves (in rail-major order) with d pod spines each (one link per
 *   leaf-spine pair); pod spine s of every pod joins core group s of C cores (the smallest divisor of d with
 *   pods·d/C ≤ R) by d/C parallel links each.
 *
 * Routing is destination-based like OpenSM's ftree engine: the up port out of a leaf is the destination's
 * port position under its own leaf (so a leaf-to-leaf permutation never shares a link), and the up port out
 * of a pod spine is the destination leaf's index in its pod.
 */
import { InputError } from '../../common/errors.js';
import type { IbSwitchSpec } from '../specs.js';
import { type Fabric, type FabricInput, hcaCable, switchCable } from './fabric.js';

/** Throws unless `nodes` nodes with `rails` HCAs each fit a three-level fat tree of these switches. */
export function checkFatTreeSize(where: string, nodes: number, rails: number, ibSwitch: IbSwitchSpec): void {
  const R = ibSwitch.ports;
  const d = Math.floor(R / 2);
  if (d < 1) throw InputError.field(where, 'switch ports', 'at least 2 ports for a fat tree', R);
  // At most R pods of d leaves (core groups then have one link per pod), i.e. R·d leaves over all rails.
  const maxNodes = Math.floor((R * d) / rails) * d;
  if (nodes > maxNodes) {
    throw InputError.field(where, 'nodes', `at most ${maxNodes} nodes with ${rails} HCAs each for a three-level fat tree of ${R}-port switches`, nodes);
  }
}

export function buildFatTreeFabric(inp: FabricInput): Fabric {
  const { builder: b, hcas, nodes, hcasPerNode: rails, ibSwitch } = inp;
  checkFatTreeSize(inp.where, nodes, rails, ibSwitch);
  const R = ibSwitch.ports;
  const d = Math.floor(R / 2);
  const leavesPerRail = Math.ceil(nodes / d);
  const L = rails * leavesPerRail;

  const leaves = Array.from({ length: L }, (_, l) =>
    b.device('ib-switch', `leaf-rail${Math.floor(l / leavesPerRail)}-${l % leavesPerRail}`, -1));
  const leafOf = (h: number) => (h % rails) * leavesPerRail + Math.floor(Math.floor(h / rails) / d);
  const posOf = (h: number) => Math.floor(h / rails) % d;
  const cable = hcaCable(inp);
  const hcaUp: number[] = [];
  const hcaDown: number[] = [];
  hcas.forEach((dev, h) => {
    [hcaUp[h], hcaDown[h]] = b.duplex(dev, leaves[leafOf(h)]!, cable.up, cable.down);
  });
  const spec = switchCable(inp, 'switch-port');
  const viaLeaf = (src: number, dst: number): number[] | null =>
    leafOf(src) === leafOf(dst) ? [hcaUp[src]!, hcaDown[dst]!] : null;

  if (L === 1) {
    return {
      switches: leaves,
      summary: { type: 'fat-tree', levels: 1, switchesByLevel: { leaf: 1 }, routing: 'a single switch' },
      route: (src, dst) => viaLeaf(src, dst)!,
    };
  }

  if (L <= R) {
    const S = smallestDivisorAtLeast(d, Math.ceil((L * d) / R));
    const p = d / S;
    const spines = Array.from({ length: S }, (_, s) => b.device('ib-switch', `spine${s}`, -1));
    // up[l·d + u] / down[l·d + u]: leaf l's up port u, to spine ⌊u/p⌋ (parallel link u mod p), and back.
    const up: number[] = [];
    const down: number[] = [];
    leaves.forEach((leaf, l) => {
      for (let u = 0; u < d; u++) {
        [up[l * d + u], down[l * d + u]] = b.duplex(leaf, spines[Math.floor(u / p)]!, spec, {}, `#${u % p}`);
      }
    });
    return {
      switches: [...leaves, ...spines],
      summary: {
        type: 'fat-tree', levels: 2, switchesByLevel: { leaf: L, spine: S },
        routing: `destination-based (ftree): leaf up port = destination's port position on its leaf; ${p} parallel link(s) per leaf-spine pair`,
      },
      route(src, dst) {
        const same = viaLeaf(src, dst);
        if (same) return same;
        const u = posOf(dst);
        return [hcaUp[src]!, up[leafOf(src) * d + u]!, down[leafOf(dst) * d + u]!, hcaDown[dst]!];
      },
    };
  }

  const pods = Math.ceil(L / d);
  const C = smallestDivisorAtLeast(d, Math.ceil((pods * d) / R));
  const q = d / C;
  const podSpines = Array.from({ length: pods * d }, (_, i) => b.device('ib-switch', `pod${Math.floor(i / d)}-spine${i % d}`, -1));
  const cores = Array.from({ length: d * C }, (_, i) => b.device('ib-switch', `core${Math.floor(i / C)}.${i % C}`, -1));
  const leafUp: number[] = []; // [l·d + s]: leaf l → spine s of its pod
  const leafDown: number[] = [];
  leaves.forEach((leaf, l) => {
    const pod = Math.floor(l / d);
    for (let s = 0; s < d; s++) [leafUp[l * d + s], leafDown[l * d + s]] = b.duplex(leaf, podSpines[pod * d + s]!, spec);
  });
  const spineUp: number[] = []; // [(pod·d + s)·d + v]: pod spine s → core ⌊v/q⌋ of group s, parallel link v mod q
  const spineDown: number[] = [];
  podSpines.forEach((spine, i) => {
    const group = i % d;
    for (let v = 0; v < d; v++) {
      const core = cores[group * C + Math.floor(v / q)]!;
      [spineUp[i * d + v], spineDown[i * d + v]] = b.duplex(spine, core, spec, {}, `#${v % q}`);
    }
  });
  return {
    switches: [...leaves, ...podSpines, ...cores],
    summary: {
      type: 'fat-tree', levels: 3, switchesByLevel: { leaf: L, 'pod spine': pods * d, core: d * C },
      routing: `destination-based (ftree): leaf up port = destination's port position, pod-spine up port = destination leaf's index in its pod; ${q} parallel link(s) per spine-core pair`,
    },
    route(src, dst) {
      const same = viaLeaf(src, dst);
      if (same) return same;
      const ls = leafOf(src);
      const ld = leafOf(dst);
      const u = posOf(dst);
      const ps = Math.floor(ls / d);
      const pd = Math.floor(ld / d);
      if (ps === pd) return [hcaUp[src]!, leafUp[ls * d + u]!, leafDown[ld * d + u]!, hcaDown[dst]!];
      const v = ld % d;
      return [hcaUp[src]!, leafUp[ls * d + u]!, spineUp[(ps * d + u) * d + v]!, spineDown[(pd * d + u) * d + v]!, leafDown[ld * d + u]!, hcaDown[dst]!];
    },
  };
}

function smallestDivisorAtLeast(n: number, min: number): number {
  for (let k = Math.max(1, min); k <= n; k++) if (n % k === 0) return k;
  return n;
}
