import type { Axis, Plan } from './plan-types.js';
import { COMMS, rankOf, type CommGroups, type RankCoords } from './task-graph.js';

/**
 * Ranks ↔ (pipe, data, model) coordinates, as DeepSpeed's ProcessTopology lays them out: the rank is the
 * mixed-radix number of the coordinates with the axes in `plan.rankOrder` (outermost first). gpt-neox
 * uses ['pipe', 'data', 'model'], so TP peers are adjacent ranks. The launcher fills nodes in rank order,
 * so rank r runs on GPU r (node ⌊r / gpusPerNode⌋).
 */
export interface RankMap {
  ranks: number;
  axes: { axis: Axis; size: number }[];
  coords: RankCoords;
  gpuOfRank: Int32Array;
  /** Communicators by COMMS index. */
  groups: CommGroups[];
}

/**
 * `tiedStages`: the stages holding the two copies of a tied embedding (DeepSpeed TiedLayerSpec groups the
 * stages that own it): the first and the last stage, unless an uneven partition left trailing stages empty.
 */
export function buildRankMap(plan: Pick<Plan, 'tp' | 'pp' | 'dp' | 'rankOrder'>, tiedStages: readonly [number, number] = [0, plan.pp - 1]): RankMap {
  const size: Record<Axis, number> = { pipe: plan.pp, data: plan.dp, model: plan.tp };
  const axes = plan.rankOrder.map((axis) => ({ axis, size: size[axis] }));
  const ranks = plan.tp * plan.pp * plan.dp;
  const coords: RankCoords = { pipe: new Int32Array(ranks), data: new Int32Array(ranks), model: new Int32Array(ranks) };
  for (let r = 0; r < ranks; r++) {
    let rest = r;
    for (let i = axes.length - 1; i >= 0; i--) {
      const { axis, size: n } = axes[i]!;
      coords[axis][r] = rest % n;
      rest = Math.floor(rest / n);
    }
  }
  const gpuOfRank = Int32Array.from({ length: ranks }, (_, r) => r);
  const at = { axes };
  const c = (r: number) => ({ pipe: coords.pipe[r]!, data: coords.data[r]!, model: coords.model[r]! });

  /** Groups of ranks sharing `same` coordinates, members ordered by the varying coordinates (first varies slowest). */
  const groupBy = (key: (r: number) => string, members: (r: number) => number[]): CommGroups => {
    const ids = new Map<string, number>();
    const list: Int32Array[] = [];
    const groupOfRank = new Int32Array(ranks).fill(-1);
    for (let r = 0; r < ranks; r++) {
      const m = members(r);
      if (m.length === 0) continue;
      const k = key(r);
      let id = ids.get(k);
      if (id === undefined) {
        id = list.length;
        ids.set(k, id);
        list.push(Int32Array.from(m));
      }
      groupOfRank[r] = id;
    }
    return { groupOfRank, members: list };
  };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const [tiedA, tiedB] = tiedStages;
  const groups: Record<(typeof COMMS)[number], CommGroups> = {
    tp: groupBy((r) => `${c(r).pipe}/${c(r).data}`, (r) => range(plan.tp).map((model) => rankOf(at, { ...c(r), model }))),
    dp: groupBy((r) => `${c(r).pipe}/${c(r).model}`, (r) => range(plan.dp).map((data) => rankOf(at, { ...c(r), data }))),
    mp: groupBy((r) => `${c(r).data}`, (r) => range(plan.pp).flatMap((pipe) => range(plan.tp).map((model) => rankOf(at, { ...c(r), pipe, model }))).sort((a, b) => a - b)),
    tied: groupBy(
      (r) => `${c(r).data}/${c(r).model}`,
      (r) => (tiedA !== tiedB && (c(r).pipe === tiedA || c(r).pipe === tiedB) ? [rankOf(at, { ...c(r), pipe: tiedA }), rankOf(at, { ...c(r), pipe: tiedB })] : []),
    ),
    // One 2-rank group per neighbouring pair of stages (DeepSpeed p2p.py builds one broadcast group per pair).
    pipe: pipePairs(plan.pp, ranks, (r, pipe) => rankOf(at, { ...c(r), pipe }), c),
    world: { groupOfRank: new Int32Array(ranks), members: [Int32Array.from(range(ranks))] },
  };
  return { ranks, axes, coords, gpuOfRank, groups: COMMS.map((k) => groups[k]) };
}

/**
 * The 'pipe' communicators: for every (data, model) and stage s, the pair (s, s+1 mod pp). A rank belongs
 * to two pairs; `groupOfRank` gives the downstream one (its own pair with s+1).
 */
function pipePairs(pp: number, ranks: number, at: (r: number, pipe: number) => number, c: (r: number) => { pipe: number }): CommGroups {
  const groupOfRank = new Int32Array(ranks).fill(-1);
  const members: Int32Array[] = [];
  if (pp < 2) return { groupOfRank, members };
  for (let r = 0; r < ranks; r++) {
    groupOfRank[r] = members.length;
    members.push(Int32Array.of(r, at(r, (c(r).pipe + 1) % pp)));
  }
  return { groupOfRank, members };
}
