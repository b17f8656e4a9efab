import type { NeoXConfig } from '../model/config.js';
import { pipelineStages } from '../model/pipeline-partition.js';
import { dataParallel } from './data-parallel.js';
import { OpCatalog } from './op-catalog.js';
import { validatePlan } from './plan.js';
import type { Plan } from './plan-types.js';
import { Interner, ProgramBuilder } from './program-builder.js';
import { buildRankMap } from './rank-map.js';
import { stageSchedule } from './schedule.js';
import { StageEmitter } from './stage-program.js';
import type { ModelChunk, TaskGraph } from './task-graph.js';
import { chunkTensors, numelOf } from './zero.js';

/**
 * Model + plan → the task graph of one optimizer step on every rank. One program per pipeline stage,
 * shared by that stage's TP and DP ranks (see task-graph.ts).
 */
export function buildTaskGraph(cfg: NeoXConfig, plan: Plan): TaskGraph {
  validatePlan(cfg, plan);
  const chunks = modelChunks(cfg, plan);
  const tied = tiedStages(chunks);
  const map = buildRankMap(plan, tied);
  const cat = new OpCatalog(cfg, plan);
  const labels = new Interner();
  const keys = new Interner();
  const programs = Array.from({ length: plan.pp }, (_, pipe) => {
    const mine = chunks.filter((c) => c.pipe === pipe);
    const actions = stageSchedule(plan, pipe);
    const dp = dataParallel(cfg, plan, mine, actions, tied[0] !== tied[1]);
    const b = new ProgramBuilder(pipe, labels, keys);
    new StageEmitter(plan, cat, pipe, mine, chunks.length, b, dp.hooks).run(actions);
    return b.finish({ staticMemory: dp.staticMemory, buckets: dp.buckets, chunks: mine, paramsPerRank: dp.paramsPerRank, shardParams: dp.shardParams });
  });
  return {
    plan, model: cfg.name, ranks: map.ranks, coords: map.coords, gpuOfRank: map.gpuOfRank,
    programOfRank: Int32Array.from(map.coords.pipe), programs, groups: map.groups,
    opSeqs: cat.opSeqs, labels: labels.list, keys: keys.list, chunks, axes: map.axes,
  };
}

/**
 * The model chunks: for 1F1B and GPipe, DeepSpeed's partition of gpt-neox's layer list (the embedding on
 * stage 0, the final norm and output layer on the last stage); for the interleaved schedule, pp·v equal
 * chunks (Megatron), chunk c on stage c mod pp.
 */
export function modelChunks(cfg: NeoXConfig, plan: Plan): ModelChunk[] {
  const V = plan.pp * plan.virtualStages;
  const raw: Omit<ModelChunk, 'paramsPerRank'>[] = plan.schedule === 'interleaved'
    ? Array.from({ length: V }, (_, c) => ({
      vstage: c, pipe: c % plan.pp, firstLayer: (c * cfg.numLayers) / V, endLayer: ((c + 1) * cfg.numLayers) / V,
      hasEmbedding: c === 0, hasHead: c === V - 1,
    }))
    : pipelineStages(cfg, plan.pp, plan.tp, plan.partitionMethod).map((s) => ({
      vstage: s.stage, pipe: s.stage, firstLayer: s.firstLayer, endLayer: s.endLayer,
      hasEmbedding: s.entries.some((e) => e.kind === 'embedding'), hasHead: s.entries.some((e) => e.kind === 'output'),
    }));
  const [embeddingPipe, headPipe] = tiedStages(raw);
  return raw.map((c) => ({ ...c, paramsPerRank: numelOf(chunkTensors(cfg, { ...c, paramsPerRank: 0 }, plan.tp, embeddingPipe !== headPipe)) }));
}

/**
 * The stages of the embedding and of the head: where a tied model keeps its two embedding copies. The head
 * is on the last stage unless DeepSpeed's uneven partition left trailing stages without layers.
 */
export function tiedStages(chunks: readonly Pick<ModelChunk, 'pipe' | 'hasEmbedding' | 'hasHead'>[]): [number, number] {
  return [chunks.find((c) => c.hasEmbedding)!.pipe, chunks.find((c) => c.hasHead)!.pipe];
}
