import type { Cluster } from '../../hardware/cluster.js';
import type { NeoXConfig } from '../../model/config.js';
import { countParams } from '../../model/params.js';
import { globalBatch, type Plan } from '../../workload/plan-types.js';
import { COMM, KIND, MEMORY_CATEGORIES, type MemoryCategory } from '../../workload/task-graph.js';
import { stepBreakdown, type TimeBreakdown } from '../breakdown/breakdown.js';
import { busiestStage, explainStep } from '../breakdown/explain.js';
import { PAPER_TFLOPS_PER_GPU, stepRates, type StepRates } from '../breakdown/metrics.js';
import type { Machine, Timeline } from '../executor/executor.js';
import { linkUsage, type ClassUse, type LinkUse } from '../network/link-usage.js';
import { HEADROOM_SOURCE, memoryBudget, type Headroom } from '../memory/budget.js';
import { rankRuntime, runtimeReserve, type RankRuntime, type RuntimeReserve } from '../memory/runtime-reserve.js';
import { stageMemory } from '../memory/tracker.js';
import { checkpointSize } from './checkpoint.js';
import { PAPER_RUN, projectRun, type RunProjection } from './projection.js';
import { RUN_DEFAULTS, type RunSettings } from './run-settings.js';

/** Version tag of the JSON summary (bump on any incompatible change; docs/simulate.md documents it). */
export const SUMMARY_SCHEMA = 'neox-sim/simulate-summary@1';

export interface StageSummary {
  pipe: number;
  ranks: number;
  /** Mean over the stage's ranks, seconds. */
  seconds: TimeBreakdown;
}

export interface MemoryStageSummary {
  pipe: number;
  /** The stage's rank with the highest peak. */
  rank: number;
  peakBytes: number;
  peakSeconds: number;
  fits: boolean;
  marginBytes: number;
  modelStateBytes: number;
  activationBytes: number;
  /** The rank's runtime reserve by part, with its NCCL communicators (category 'runtime' in byCategory). */
  runtime: RankRuntime;
  byCategory: Record<MemoryCategory, number>;
  /** The highest each category reaches during the step (at different times). */
  maxByCategory: Record<MemoryCategory, number>;
}

export interface SimulationSummary {
  schema: typeof SUMMARY_SCHEMA;
  cluster: { name: string; gpus: number; nodes: number; gpusPerNode: number; gpu: string };
  model: { name: string; layers: number; hidden: number; heads: number; seqLength: number; params: number };
  plan: Plan & { globalBatch: number; gpus: number };
  step: {
    seconds: number;
    rates: StepRates;
    paperTflopsPerGpu: number;
    busiestStage: number;
    stages: StageSummary[];
    /** Every rank's breakdown, when asked for. */
    ranks?: (TimeBreakdown & { rank: number; pipe: number; data: number; model: number })[];
    /** Per link class, seconds each kind of communication spent bounded by it (summed over instances). */
    commBounds: { tp: Record<string, number>; pp: Record<string, number>; dp: Record<string, number> };
    explanation: string[];
    /** How the cluster's links were loaded over the step (absent with free communication). */
    links?: { byClass: Record<string, ClassUse>; busiest: LinkUse[] };
    /** Simulator cost: tasks simulated, engine events, wall seconds are added by the caller. */
    tasks: number;
    events: number;
  };
  memory: {
    /** What CUDA reports as the GPU's memory. */
    capacityBytes: number;
    nominalBytes: number;
    /** Allocator headroom taken off the capacity, and what is left: the budget every peak must fit in. */
    headroom: Headroom;
    headroomBytes: number;
    budgetBytes: number;
    /** Where the runtime reserve's constants and the headroom default come from. */
    sources: { cudaContext: string; cublasWorkspace: string; cublasHandles: string; ncclBuffers: string; headroom: string };
    stages: MemoryStageSummary[];
  };
  eval: { iterSeconds: number };
  run: RunProjection & {
    checkpoint: { modelBytes: number; optimizerBytes: number; totalBytes: number; busiestNodeBytes: number };
    settings: RunSettings;
    sources: Record<keyof RunSettings, string>;
    paper: typeof PAPER_RUN;
  };
  warnings: string[];
}

export interface SummaryInput {
  cfg: NeoXConfig;
  plan: Plan;
  cluster: Cluster;
  /** The machine the step ran on: its GPU's runtime constants and NCCL's channels size the runtime reserve. */
  machine: Machine;
  /** Allocator headroom (default none, budget.ts). */
  headroom?: Headroom;
  /** The step graph's runtime reserve, if already computed (else computed here). */
  reserve?: RuntimeReserve;
  step: Timeline;
  /** One evaluation iteration: a forward-only pass over a global batch. */
  evalIter: Timeline;
  settings: RunSettings;
  warnings?: string[];
  perRank?: boolean;
}

export function summarize(x: SummaryInput): SimulationSummary {
  const { cfg, plan, cluster, step } = x;
  const g = step.graph;
  const { stages, ranks } = stepBreakdown(step);
  const rates = stepRates(cfg, plan, step);
  const commBounds = boundsByKind(step);
  const dominant = (m: Record<string, number>) => {
    const top = Object.entries(m).sort((a, b) => b[1] - a[1])[0];
    return top && top[1] > 0 ? linkWords(top[0]) : undefined;
  };
  const budget = memoryBudget(cluster.gpu.hbmUsableBytes, x.headroom);
  const reserve = x.reserve ?? runtimeReserve(g, x.machine);
  const memory = stageMemory(step, budget.budgetBytes, reserve).map((s): MemoryStageSummary => ({
    pipe: s.pipe, rank: s.peak.rank, peakBytes: s.peak.peakBytes, peakSeconds: s.peak.peakTime, fits: s.fits,
    marginBytes: s.marginBytes, modelStateBytes: s.peak.modelStateBytes, activationBytes: s.peak.activationBytes,
    runtime: rankRuntime(reserve, s.peak.rank),
    byCategory: Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, s.peak.atPeak[i]!])) as Record<MemoryCategory, number>,
    maxByCategory: Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, s.peak.maxByCategory[i]!])) as Record<MemoryCategory, number>,
  }));
  const ckpt = checkpointSize(
    Array.from({ length: g.ranks }, (_, r) => ({
      node: cluster.nodeOfGpu(g.gpuOfRank[r]!), dpIndex: g.coords.data[r]!, params: g.programs[g.programOfRank[r]!]!.paramsPerRank,
    })),
    cluster.nodes, plan.dp, plan.zeroStage,
  );
  const s = x.settings;
  const run = projectRun({
    steps: s.steps, stepSeconds: step.stepTime, gpus: g.ranks,
    eval: { interval: s.evalInterval, iters: s.evalIters, iterSeconds: x.evalIter.stepTime },
    save: { interval: s.saveInterval, size: ckpt, writeBandwidthPerNode: s.ckptWriteBandwidthPerNode },
    failures: { mtbfHoursPerGpu: s.mtbfHoursPerGpu, restartSeconds: s.restartSeconds },
  });
  let tasks = 0;
  for (let r = 0; r < g.ranks; r++) tasks += g.programs[g.programOfRank[r]!]!.size;
  return {
    schema: SUMMARY_SCHEMA,
    cluster: { name: cluster.name, gpus: cluster.gpuCount, nodes: cluster.nodes, gpusPerNode: cluster.gpusPerNode, gpu: cluster.gpu.name },
    model: { name: cfg.name, layers: cfg.numLayers, hidden: cfg.hiddenSize, heads: cfg.numHeads, seqLength: plan.seqLength, params: countParams(cfg, plan.tp).total },
    plan: { ...plan, globalBatch: globalBatch(plan), gpus: g.ranks },
    step: {
      seconds: step.stepTime, rates, paperTflopsPerGpu: PAPER_TFLOPS_PER_GPU,
      busiestStage: busiestStage(stages).pipe,
      stages: stages.map((st) => ({ pipe: st.pipe, ranks: st.ranks, seconds: st.mean })),
      ...(x.perRank ? { ranks: ranks.map((b, r) => ({ rank: r, pipe: g.coords.pipe[r]!, data: g.coords.data[r]!, model: g.coords.model[r]!, ...b })) } : {}),
      commBounds,
      explanation: explainStep({
        stepSeconds: step.stepTime, stages, pp: plan.pp, microBatches: plan.gradAccumSteps, virtualStages: plan.virtualStages,
        commBound: { tp: dominant(commBounds.tp), pp: dominant(commBounds.pp), dp: dominant(commBounds.dp) },
      }),
      ...(step.network ? { links: linkUsage(step.network, 5) } : {}),
      tasks, events: step.engine.eventsRun,
    },
    memory: {
      capacityBytes: budget.usableBytes, nominalBytes: cluster.gpu.hbmBytes, headroom: budget.headroom, headroomBytes: budget.headroomBytes, budgetBytes: budget.budgetBytes,
      sources: {
        cudaContext: cluster.gpu.sources['runtime.cudaContext'] ?? '', cublasWorkspace: cluster.gpu.sources['runtime.cublasWorkspace'] ?? '',
        cublasHandles: cluster.gpu.sources['runtime.cublasHandles'] ?? '',
        ncclBuffers: `connection buffers of every communicator, sized as ${x.machine.nccl.id} allocates them (hardware-profiles/nccl/${x.machine.nccl.id}.json "memory"; sim/memory/nccl-buffers.ts)`,
        headroom: 'fraction' in budget.headroom || budget.headroomBytes > 0 ? 'set by the user (--memory-headroom)' : HEADROOM_SOURCE,
      },
      stages: memory,
    },
    eval: { iterSeconds: x.evalIter.stepTime },
    run: {
      ...run,
      checkpoint: { modelBytes: ckpt.modelBytes, optimizerBytes: ckpt.optimizerBytes, totalBytes: ckpt.totalBytes, busiestNodeBytes: Math.max(...ckpt.bytesPerNode) },
      settings: s,
      sources: Object.fromEntries(Object.entries(RUN_DEFAULTS).map(([k, v]) => [k, v.source])) as Record<keyof RunSettings, string>,
      paper: PAPER_RUN,
    },
    warnings: x.warnings ?? [],
  };
}

/** Seconds each kind of communication spent bounded by each link class (or latency / protocol ceiling). */
function boundsByKind(t: Timeline): SimulationSummary['step']['commBounds'] {
  const out = { tp: {} as Record<string, number>, pp: {} as Record<string, number>, dp: {} as Record<string, number> };
  for (const c of t.comms) {
    if (!c.result) continue;
    const p = t.graph.programs[t.graph.programOfRank[c.rank]!]!;
    const comm = p.comm[c.task]!;
    const kind = p.kind[c.task] !== KIND.collective ? 'pp' : comm === COMM.tp ? 'tp' : 'dp';
    const bound = c.result.bottleneck;
    out[kind][bound] = (out[kind][bound] ?? 0) + (c.end - c.start);
  }
  return out;
}

const LINK_WORDS: Record<string, string> = {
  nvlink: 'NVLink', pcie: 'PCIe', xgmi: 'the socket link (xGMI)', hca: 'the InfiniBand HCAs', 'switch-port': 'IB switch ports',
  trunk: 'the trunk between the IB switches', ceiling: "NCCL's protocol bandwidth ceiling", latency: 'latency',
};
const linkWords = (b: string) => LINK_WORDS[b] ?? b;
