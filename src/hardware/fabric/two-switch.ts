/**
 * Two IB switches joined by a trunk of parallel links (the GPT-NeoX-20B fabric). Node HCAs alternate between
 * the switches (HCA h → switch h mod 2), which for 4 HCAs, 2 per socket, is the paper's "one link per node CPU
 * socket connected to each switch". InfiniBand forwards by destination LID with static tables; OpenSM's
 * min-hop engine gives each equal-cost port the fewest routes, which spreads destinations round-robin over
 * the trunk in LID order: the trunk link to HCA d is (rank of d among the far switch's HCAs) mod #trunk links.
 * Destinations sharing a trunk link share its bandwidth, which is how trunk congestion shows up.
 */
import { InputError } from '../../common/errors.js';
import type { IbSwitchSpec } from '../specs.js';
import { type Fabric, type FabricInput, hcaCable, switchCable } from './fabric.js';

/** Throws unless `nodes` nodes with `hcasPerNode` HCAs each and the trunk fit the switches' ports. */
export function checkTwoSwitchSize(where: string, nodes: number, hcasPerNode: number, trunkLinks: number, ibSwitch: IbSwitchSpec): void {
  if (trunkLinks >= ibSwitch.ports) {
    throw InputError.field(where, 'trunkLinks', `fewer than the ${ibSwitch.ports} ports of a ${ibSwitch.id}`, trunkLinks);
  }
  const perNode = Math.ceil(hcasPerNode / 2); // ports a node takes on its busier switch
  const maxNodes = Math.floor((ibSwitch.ports - trunkLinks) / perNode);
  if (nodes > maxNodes) {
    throw InputError.field(
      where, 'nodes',
      `at most ${maxNodes} nodes (each ${ibSwitch.id} has ${ibSwitch.ports} ports: ${perNode} per node + ${trunkLinks} trunk links)`,
      nodes,
    );
  }
}

export function buildTwoSwitchFabric(inp: FabricInput, trunkLinks: number): Fabric {
  const { builder: b, hcas, hcasPerNode } = inp;
  checkTwoSwitchSize(inp.where, inp.nodes, hcasPerNode, trunkLinks, inp.ibSwitch);
  const switches = [b.device('ib-switch', 'ib-switch0', -1), b.device('ib-switch', 'ib-switch1', -1)];
  const switchOf = hcas.map((_, h) => (h % hcasPerNode) % 2);
  const cable = hcaCable(inp);
  const up: number[] = [];
  const down: number[] = [];
  const rank: number[] = [];
  const seen = [0, 0];
  hcas.forEach((dev, h) => {
    const s = switchOf[h]!;
    [up[h], down[h]] = b.duplex(dev, switches[s]!, cable.up, cable.down);
    rank[h] = seen[s]!++;
  });
  const trunk: number[][] = [[], []]; // trunk[s][t]: link t leaving switch s
  const spec = switchCable(inp, 'trunk');
  for (let t = 0; t < trunkLinks; t++) {
    [trunk[0]![t], trunk[1]![t]] = b.duplex(switches[0]!, switches[1]!, spec, {}, `#${t}`);
  }
  return {
    switches,
    summary: {
      type: 'two-switch',
      switchesByLevel: { switch: 2 },
      trunkLinks,
      routing: 'destination-based: the trunk link to HCA d is (rank of d among the far switch\'s HCAs) mod #trunk links (OpenSM min-hop balancing)',
    },
    route(src, dst) {
      const s = switchOf[src]!;
      const d = switchOf[dst]!;
      if (s === d) return [up[src]!, down[dst]!];
      return [up[src]!, trunk[s]![rank[dst]! % trunkLinks]!, down[dst]!];
    },
  };
}
