import { type Cluster, type ClusterOverrides, loadCluster } from '../hardware/cluster.js';
import { loadNcclProfile, type NcclConstants } from '../hardware/nccl-profile.js';
import type { NeoXConfig } from '../model/config.js';
import { graphMemoryFloors, type MemoryFloor } from '../sim/bounds/memory-floor.js';
import { stepFloor, type StepFloor } from '../sim/bounds/step-floor.js';
import type { RunSettings } from '../sim/run/run-settings.js';
import { execute, type Machine } from '../sim/executor/executor.js';
import { memoryBudget, type Headroom } from '../sim/memory/budget.js';
import { runtimeReserve } from '../sim/memory/runtime-reserve.js';
import { stageMemory } from '../sim/memory/tracker.js';
import { forwardOnlyGraph } from '../sim/run/forward-only.js';
import { clusterMachine } from '../sim/run/simulate.js';
import { summarize, type SimulationSummary } from '../sim/run/summary.js';
import { buildTaskGraph } from '../workload/build-graph.js';
import { validatePlan, type Plan } from '../workload/plan.js';
import { MEMORY_CATEGORIES, type TaskGraph } from '../workload/task-graph.js';
import { stepTimeline, type StepTimeline } from './step-timeline.js';

/** Everything a worker needs to evaluate plans, as plain data (it crosses thread boundaries). */
export interface EvalContext {
  cfg: NeoXConfig;
  cluster: { name: string; overrides: ClusterOverrides };
  nccl: string;
  settings: RunSettings;
  /** GPU memory a plan must fit in before the headroom, bytes (default: the GPU's usable memory). */
  capacityBytes?: number;
  /** Allocator headroom taken off it (default none). */
  headroom?: Headroom;
}

export interface EvalJob {
  plan: Plan;
  /** Overrides of the context's cluster for this job (what-ifs: another node count). */
  cluster?: ClusterOverrides;
  /** Skip the simulation when the plan's step-time floor exceeds this (seconds); summarize a simulated plan
   * that fits and is at least as fast. */
  threshold: number;
  /** Summarize the whole run (evaluation pass, breakdown, projection) if the plan fits. */
  summary?: boolean;
  /** Also return the step's timeline for the report. */
  timeline?: boolean;
  /** Stop after the task graph's floors: return the step-time floor instead of simulating. */
  floorOnly?: boolean;
  /** The floors were checked by an earlier floor-only job: simulate straight away. */
  checked?: boolean;
  /** Prefer this worker (it built the plan's task graph before and still holds it). */
  worker?: number;
}

export interface MemoryVerdict {
  /** Stage whose floor (or simulated peak) is highest. */
  stage: number;
  bytes: number;
  capacityBytes: number;
  byCategory: Record<string, number>;
}

/** A simulated step: its time and memory; the full summary when the plan may rank (see `evaluate`). */
export interface SimulatedStep {
  kind: 'simulated';
  /** The task graph's step-time floor, when it was computed. */
  floor?: StepFloor;
  stepSeconds: number;
  /** Per pipeline stage: the highest peak over its GPUs, bytes. */
  stagePeaks: number[];
  fits: boolean;
  memory: MemoryVerdict;
  summary?: SimulationSummary;
  timeline?: StepTimeline;
  wallSeconds: number;
}

export type EvalResult = ({ kind: 'memory'; memory: MemoryVerdict } | { kind: 'pruned'; floor: StepFloor } | { kind: 'floor'; floor: StepFloor } | SimulatedStep) & {
  /** The worker that evaluated it (set by the pool). */
  worker?: number;
};

/**
 * Evaluates plans on one cluster: builds the task graph, checks its memory floor against the GPU
 * (sim/bounds: a bound the tracker's peak can never be below), computes its step-time floor, and simulates
 * the plan only if that floor is under the threshold; the whole-run summary (the evaluation pass, the
 * breakdown, the projection: the rest of what `simulate` in sim/run/simulate.ts runs) only when asked, so a
 * plan that cannot rank costs none of it. One per thread.
 */
export class PlanEvaluator {
  readonly nccl: NcclConstants;
  private readonly machines = new Map<string, { cluster: Cluster; machine: Machine }>();

  constructor(readonly ctx: EvalContext) {
    this.nccl = loadNcclProfile(ctx.nccl);
  }

  /** The cluster (with the job's what-if overrides) and its machine, built once each. */
  target(overrides: ClusterOverrides = {}): { cluster: Cluster; machine: Machine } {
    const all = { ...this.ctx.cluster.overrides, ...overrides };
    const key = JSON.stringify(all);
    let t = this.machines.get(key);
    if (!t) {
      const cluster = loadCluster(this.ctx.cluster.name, all);
      this.machines.set(key, (t = { cluster, machine: clusterMachine(cluster, this.nccl) }));
    }
    return t;
  }

  evaluate(job: EvalJob): EvalResult {
    const { cfg } = this.ctx;
    const { cluster, machine } = this.target(job.cluster);
    const capacity = memoryBudget(this.ctx.capacityBytes ?? cluster.gpu.hbmUsableBytes, this.ctx.headroom).budgetBytes;
    const key = JSON.stringify([job.plan, job.cluster ?? {}]);
    const t0 = performance.now();
    // A task graph built before (by a floor-only job) is reused.
    const cached = this.recent.get(key);
    const graph = cached?.graph ?? buildTaskGraph(cfg, job.plan);
    // CUDA context, cuBLAS workspaces and NCCL buffers of every rank: in the floors, the peaks and the summary.
    const reserve = runtimeReserve(graph, machine);
    let floor: StepFloor | undefined;
    if (!job.checked) {
      const floors = graphMemoryFloors(graph, reserve);
      const worst = floors.reduce((best, f, s) => (f.bytes > floors[best]!.bytes ? s : best), 0);
      if (floors[worst]!.bytes > capacity) return { kind: 'memory', memory: verdict(worst, floors[worst]!, capacity) };
      if (Number.isFinite(job.threshold) || job.floorOnly) {
        floor = stepFloor(graph, machine);
        if (floor.seconds > job.threshold) return { kind: 'pruned', floor };
      }
      if (job.floorOnly) {
        if (!cached) this.remember(key, graph);
        return { kind: 'floor', floor: floor! };
      }
    }
    const step = execute(graph, machine);
    const stages = stageMemory(step, capacity, reserve);
    const fits = stages.every((s) => s.fits);
    const top = stages.reduce((a, b) => (b.peak.peakBytes > a.peak.peakBytes ? b : a));
    const out: SimulatedStep = {
      kind: 'simulated', ...(floor ? { floor } : {}), stepSeconds: step.stepTime, stagePeaks: stages.map((s) => s.peak.peakBytes), fits,
      memory: { stage: top.pipe, bytes: top.peak.peakBytes, capacityBytes: capacity, byCategory: byCategory(top.peak.atPeak) }, wallSeconds: 0,
    };
    // The whole-run summary for a plan that may rank (it fits and beats the threshold, the k-th best so far),
    // computed now: keeping simulated steps for later would hold hundreds of MB per worker.
    if (fits && (job.summary || step.stepTime <= job.threshold)) {
      const { warnings } = validatePlan(cfg, job.plan);
      const evalIter = execute(forwardOnlyGraph(graph), machine);
      out.summary = summarize({ cfg, plan: job.plan, cluster, machine, headroom: this.ctx.headroom, reserve, step, evalIter, settings: this.ctx.settings, warnings });
      if (job.timeline) out.timeline = stepTimeline(step);
    }
    out.wallSeconds = (performance.now() - t0) / 1000;
    return out;
  }

  /** Task graphs built by floor-only jobs, for the simulation that may follow (the oldest go first). */
  private readonly recent = new Map<string, { graph: TaskGraph }>();
  private remember(key: string, graph: TaskGraph): void {
    this.recent.set(key, { graph });
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
  }
}

/** Task graphs a worker keeps (a few MB each). */
const RECENT = 24;

function verdict(stage: number, f: MemoryFloor, capacityBytes: number): MemoryVerdict {
  return { stage, bytes: f.bytes, capacityBytes, byCategory: byCategory(f.byCategory) };
}

const byCategory = (a: Float64Array) => Object.fromEntries(MEMORY_CATEGORIES.map((c, i) => [c, a[i]!]));
