import { InputError } from '../common/errors.js';
import type { NeoXConfig } from './config.js';
import { embeddingParamTensors, headParamTensors, layerParamsPerRank, perRankNumel, wordEmbeddingTensor, type ParamTensor } from './params.js';

/**
 * Pipeline-stage assignment exactly as gpt-neox (2022) + DeepSpeed's PipelineModule do it.
 *
 * GPT2ModelPipe lists its layers as: [EmbeddingPipe, <lambda> (transpose to [s,b,h]), L ×
 * ParallelTransformerLayerPipe, <lambda> (transpose back), NormPipe, ParallelLinearPipe] (a tied model ends
 * with a second EmbeddingPipe instead of ParallelLinearPipe). DeepSpeed then cuts this list into `pp`
 * contiguous parts with `partition_balanced` (deepspeed/runtime/utils.py), weighting each entry by the
 * partition method: "type:<regex>" gives weight 1 to entries whose class name matches the regex (the default
 * "type:transformer|mlp" matches only the transformer layers), "parameters" weights by trainable parameters.
 * So stage 0 always holds the embedding and the last stage the final norm and output projection.
 */
export type PipeEntryKind = 'embedding' | 'transpose' | 'transformer' | 'final-norm' | 'output';

export interface PipeEntry {
  /** Position in the layer list (gpt-neox checkpoint file `layer_XX-...`). */
  index: number;
  /** The class (or function) name DeepSpeed matches partition regexes against. */
  typeName: string;
  kind: PipeEntryKind;
  /** Transformer layer number for kind 'transformer'. */
  layer?: number;
}

export function pipeEntries(cfg: NeoXConfig): PipeEntry[] {
  const entries: Omit<PipeEntry, 'index'>[] = [
    { typeName: 'EmbeddingPipe', kind: 'embedding' },
    { typeName: '<lambda>', kind: 'transpose' },
    ...Array.from({ length: cfg.numLayers }, (_, layer) => ({ typeName: 'ParallelTransformerLayerPipe', kind: 'transformer' as const, layer })),
    { typeName: '<lambda>', kind: 'transpose' },
    { typeName: 'NormPipe', kind: 'final-norm' },
    { typeName: cfg.tieWordEmbeddings ? 'EmbeddingPipe' : 'ParallelLinearPipe', kind: 'output' },
  ];
  return entries.map((e, index) => ({ ...e, index }));
}

/** DeepSpeed `partition_uniform`, used when there are no more entries than parts. */
function partitionUniformSmall(numItems: number, numParts: number): number[] {
  return Array.from({ length: numParts + 1 }, (_, p) => Math.min(p, numItems));
}

function bisectLeft(a: number[], x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** DeepSpeed `_lprobe`: greedy cut of the inclusive prefix sums `w` with heaviest part ≤ `bottleneck`. */
function lprobe(w: number[], numParts: number, bottleneck: number): { parts: number[]; ok: boolean } {
  const n = w.length;
  const parts = Array.from({ length: numParts + 1 }, (_, p) => (p === 0 ? 0 : n));
  let bsum = bottleneck;
  const chunk = Math.floor(n / numParts);
  let step = chunk;
  for (let p = 1; p < numParts; p++) {
    while (step < n && w[step]! < bsum) step += chunk;
    parts[p] = bisectLeft(w, bsum, step - chunk, Math.min(step, n));
    if (parts[p] === n) return { parts, ok: w[n - 1]! - w[parts[p - 1]!]! < bottleneck };
    bsum = w[parts[p]! - 1]! + bottleneck;
  }
  return { parts, ok: bsum >= w[n - 1]! };
}

/**
 * DeepSpeed `partition_balanced(weights, num_parts, eps=1e-3)`: binary search for the smallest bottleneck,
 * in the same float64 arithmetic as the Python original, so the cut points match it exactly.
 * Returns `numParts + 1` boundaries; part p holds entries [parts[p], parts[p+1]).
 */
export function partitionBalanced(weights: number[], numParts: number, eps = 1e-3): number[] {
  if (weights.length <= numParts) return partitionUniformSmall(weights.length, numParts);
  const w: number[] = [];
  weights.forEach((x, i) => w.push(i === 0 ? x : w[i - 1]! + x));
  let lower = w[w.length - 1]! / numParts;
  let upper = w[w.length - 1]!;
  while (upper > lower + eps) {
    const mid = lower + (upper - lower) / 2;
    if (lprobe(w, numParts, mid).ok) upper = mid;
    else lower = mid + eps;
  }
  const { parts, ok } = lprobe(w, numParts, upper);
  if (!ok) throw new Error('partitionBalanced: no feasible partition (DeepSpeed asserts here too)');
  return parts;
}

/** Trainable parameters of one pipeline entry on one TP rank (DeepSpeed `_count_layer_params`). */
function entryParamsPerRank(cfg: NeoXConfig, e: PipeEntry, tp: number): number {
  const sumRank = (ts: ParamTensor[]) => ts.reduce((a, t) => a + perRankNumel(t, tp), 0);
  switch (e.kind) {
    case 'embedding': return sumRank(embeddingParamTensors(cfg, tp));
    case 'transformer': return layerParamsPerRank(cfg, tp);
    case 'final-norm': return sumRank(headParamTensors(cfg, tp).filter((t) => t.placement === 'final-norm'));
    // A tied output layer holds its copy of the word embedding (Megatron's embedding group; the position table stays on stage 0).
    case 'output': return cfg.tieWordEmbeddings ? sumRank([wordEmbeddingTensor(cfg, tp)]) : sumRank(headParamTensors(cfg, tp).filter((t) => t.placement === 'output'));
    case 'transpose': return 0;
  }
}

function partitionWeights(cfg: NeoXConfig, entries: PipeEntry[], method: string, tp: number): number[] {
  if (method === 'parameters') return entries.map((e) => entryParamsPerRank(cfg, e, tp));
  if (method.startsWith('type:')) {
    let re: RegExp;
    try {
      re = new RegExp(method.slice(5), 'i');
    } catch {
      throw InputError.field(cfg.name, 'pipe-partition-method', 'a valid regular expression after "type:"', method);
    }
    const weights = entries.map((e) => (re.test(e.typeName) ? 1 : 0));
    if (!weights.some((x) => x > 0)) {
      throw InputError.field(cfg.name, 'pipe-partition-method', 'a "type:" regex matching a layer class (e.g. "type:transformer|mlp")', method);
    }
    return weights;
  }
  throw InputError.field(cfg.name, 'pipe-partition-method', '"parameters" or "type:<regex>"', method);
}

export interface PipelineStage {
  stage: number;
  entries: PipeEntry[];
  /** Transformer layers on this stage, [first, end). */
  firstLayer: number;
  endLayer: number;
  /** Parameters held by each TP rank of this stage (every rank holds the same count). */
  paramsPerRank: number;
}

/** gpt-neox runs PP ≤ 1 as one sequential model (no PipelineModule), i.e. a single stage. */
export function pipelineStages(cfg: NeoXConfig, pp: number, tp = 1, method = 'type:transformer|mlp'): PipelineStage[] {
  if (!Number.isInteger(pp) || pp < 1) throw InputError.field(cfg.name, 'pipe-parallel size', 'a positive integer', pp);
  const entries = pipeEntries(cfg);
  if (pp > entries.length) throw InputError.field(cfg.name, 'pipe-parallel size', `at most the ${entries.length} entries of the layer list (num-layers ${cfg.numLayers} plus embedding, norm and head)`, pp);
  const parts = pp === 1 ? [0, entries.length] : partitionBalanced(partitionWeights(cfg, entries, method, tp), pp);
  return Array.from({ length: pp }, (_, stage) => {
    const mine = entries.slice(parts[stage], parts[stage + 1]);
    const layers = mine.filter((e) => e.kind === 'transformer').map((e) => e.layer!);
    const before = entries.slice(0, parts[stage]).filter((e) => e.kind === 'transformer').length;
    return {
      stage,
      entries: mine,
      firstLayer: layers[0] ?? before,
      endLayer: layers.length ? layers[layers.length - 1]! + 1 : before,
      paramsPerRank: mine.reduce((a, e) => a + entryParamsPerRank(cfg, e, tp), 0),
    };
  });
}
