import { loadCluster } from '../hardware/cluster.js';
import type { NcclConstants } from '../hardware/nccl-profile.js';
import { rankBreakdown, Attribution, type TimeBreakdown } from '../sim/breakdown/breakdown.js';
import { stepRates } from '../sim/breakdown/metrics.js';
import { execute } from '../sim/executor/executor.js';
import { clusterMachine } from '../sim/run/simulate.js';
import { buildTaskGraph } from '../workload/build-graph.js';
import { rankOf, taskCount } from '../workload/task-graph.js';
import type { MappedRun } from './map-run.js';

/** One simulated step of a published run. */
export interface Prediction {
  seconds: number;
  /** TFLOP/s per GPU under the run's own convention (the formula its paper used). */
  tflopsPerGpu: number;
  /** Under the other conventions, for reference. */
  tflops: { sixN: number; megatron: number; neoxLogger2022: number; simulatedMatmul: number };
  /** Share of the step, mean over the pipeline stages (one rank each): compute and the idle time by cause. */
  shares: { compute: number; exposedTp: number; exposedPp: number; exposedDp: number; bubble: number };
  tasks: number;
  gpus: number;
  /** The GPU profile's dense 16-bit tensor peak and the GEMM efficiency it is calibrated with. */
  gpu: { name: string; peakTflops: number; gemmEfficiency: number };
}

/** Builds the run's task graph, executes one step on its cluster and reads the rates off the timeline. */
export function predictStep(m: MappedRun, nccl: NcclConstants): Prediction {
  const cluster = loadCluster(m.cluster.profile, m.cluster.overrides);
  const graph = buildTaskGraph(m.cfg, m.plan);
  const t = execute(graph, clusterMachine(cluster, nccl));
  const rates = stepRates(m.cfg, m.plan, t);
  const attribution = new Attribution(t);
  const stages: TimeBreakdown[] = [];
  for (let pipe = 0; pipe < m.plan.pp; pipe++) stages.push(rankBreakdown(t, rankOf(graph, { pipe, data: 0, model: 0 }), attribution));
  const mean = (f: (b: TimeBreakdown) => number) => stages.reduce((a, b) => a + f(b), 0) / stages.length / t.stepTime;
  return {
    seconds: t.stepTime,
    tflopsPerGpu: rates[m.framework.convention].tflopsPerGpu,
    tflops: {
      sixN: rates.sixN.tflopsPerGpu, megatron: rates.megatron.tflopsPerGpu, neoxLogger2022: rates.neoxLogger2022.tflopsPerGpu,
      simulatedMatmul: rates.simulatedMatmul.tflopsPerGpu,
    },
    shares: {
      compute: mean((b) => b.forward + b.recompute + b.backward + b.optimizer),
      exposedTp: mean((b) => b.exposedTp), exposedPp: mean((b) => b.exposedPp), exposedDp: mean((b) => b.exposedDp), bubble: mean((b) => b.bubble),
    },
    tasks: taskCount(graph),
    gpus: graph.ranks,
    gpu: { name: cluster.gpu.name, peakTflops: (cluster.gpu.tensorFlops[m.plan.precision] ?? 0) / 1e12, gemmEfficiency: cluster.gpu.calibration.gemmEfficiency },
  };
}
