import type { Cluster } from '../../hardware/cluster.js';
import type { NcclConstants } from '../../hardware/nccl-profile.js';
import type { NeoXConfig } from '../../model/config.js';
import { buildTaskGraph } from '../../workload/build-graph.js';
import type { Plan } from '../../workload/plan-types.js';
import type { TaskGraph } from '../../workload/task-graph.js';
import { clusterNcclSystem } from '../collectives/nccl-system.js';
import { ComputeModel } from '../compute/compute-model.js';
import { execute, type ExecuteOptions, type Machine, type Timeline } from '../executor/executor.js';
import type { Headroom } from '../memory/budget.js';
import { runtimeReserve, type RuntimeReserve } from '../memory/runtime-reserve.js';
import { forwardOnlyGraph } from './forward-only.js';
import type { RunSettings } from './run-settings.js';
import { summarize, type SimulationSummary } from './summary.js';

export interface SimulateInput {
  cfg: NeoXConfig;
  /** A validated plan that fills the cluster (workload/plan.ts `validatePlan`). */
  plan: Plan;
  cluster: Cluster;
  nccl: NcclConstants;
  settings: RunSettings;
  warnings?: string[];
  /** Executor options: free communication (what-ifs, tests). */
  execute?: ExecuteOptions;
  /** Keep every rank's breakdown in the summary. */
  perRank?: boolean;
  /** Allocator headroom taken off the GPU's memory (default none). */
  headroom?: Headroom;
}

export interface Simulation {
  summary: SimulationSummary;
  graph: TaskGraph;
  step: Timeline;
  evalIter: Timeline;
  machine: Machine;
  /** Each rank's runtime reserve (CUDA context, NCCL buffers, cuBLAS workspaces). */
  reserve: RuntimeReserve;
}

/** The machine a cluster gives the executor: its topology, its GPU's compute model, NCCL's view of it. */
export function clusterMachine(cluster: Cluster, nccl: NcclConstants): Machine {
  return { topology: cluster.topology, compute: new ComputeModel(cluster.gpu), nccl, system: clusterNcclSystem(nccl, cluster) };
}

/**
 * One training step of every GPU and one evaluation iteration, simulated; then the breakdown, memory,
 * throughput and the whole-run projection built on them.
 */
export function simulate(x: SimulateInput): Simulation {
  const graph = buildTaskGraph(x.cfg, x.plan);
  const machine = clusterMachine(x.cluster, x.nccl);
  const step = execute(graph, machine, x.execute);
  const evalIter = execute(forwardOnlyGraph(graph), machine, x.execute);
  const reserve = runtimeReserve(graph, machine);
  const summary = summarize({ cfg: x.cfg, plan: x.plan, cluster: x.cluster, machine, headroom: x.headroom, reserve, step, evalIter, settings: x.settings, warnings: x.warnings, perRank: x.perRank });
  return { summary, graph, step, evalIter, machine, reserve };
}
