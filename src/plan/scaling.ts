import { InputError } from '../common/errors.js';
import { type Cluster, type ClusterOverrides, loadCluster } from '../hardware/cluster.js';
import { makePlan, validatePlan, type Plan } from '../workload/plan.js';
import type { NeoXConfig } from '../model/config.js';
import type { EvalJob } from './evaluate.js';
import type { EvalPool } from './pool.js';

/**
 * What-if: the same plan family (TP, PP, micro-batch, ZeRO stage, recompute, schedule, rank order) on
 * clusters of other sizes, keeping the global batch (DP follows the GPU count, GAS the global batch).
 * On a two-switch fabric the trunk shrinks to the ports left when more nodes are cabled.
 */
export interface ScalingPoint {
  nodes: number;
  gpus: number;
  /** Trunk links, when they had to change for the fabric to cable this many nodes. */
  trunkLinks?: number;
  plan?: Plan;
  stepSeconds?: number;
  totalHours?: number;
  gpuHours?: number;
  /** Why there is no simulated point. */
  skipped?: string;
}

export function scalingNodeCounts(current: number): number[] {
  const base = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
  return [...new Set([...base.filter((n) => n <= Math.max(16, 2 * current)), current])].sort((a, b) => a - b);
}

export async function scalePlan(
  cfg: NeoXConfig, clusterName: string, overrides: ClusterOverrides, family: Plan, globalBatch: number, nodeCounts: number[], pool: EvalPool,
): Promise<ScalingPoint[]> {
  const points: ScalingPoint[] = [];
  const jobs: { point: ScalingPoint; job: EvalJob }[] = [];
  for (const nodes of nodeCounts) {
    const target = fitCluster(clusterName, { ...overrides, nodes });
    if ('skipped' in target) {
      points.push({ nodes, gpus: NaN, skipped: target.skipped });
      continue;
    }
    const gpus = target.cluster.gpuCount;
    const point: ScalingPoint = { nodes, gpus, ...(target.trunkLinks !== undefined ? { trunkLinks: target.trunkLinks } : {}) };
    points.push(point);
    const dp = gpus / (family.tp * family.pp);
    const gas = globalBatch / (family.microBatch * dp);
    if (!Number.isInteger(dp) || !Number.isInteger(gas)) {
      point.skipped = !Number.isInteger(dp) ? `TP × PP = ${family.tp * family.pp} does not divide ${gpus} GPUs` : `global batch ${globalBatch} is not a multiple of micro-batch × DP = ${family.microBatch * dp}`;
      continue;
    }
    const plan = makePlan(cfg, { ...family, dp, gradAccumSteps: gas });
    try {
      validatePlan(cfg, plan, { gpus, globalBatch });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      point.skipped = e.message;
      continue;
    }
    point.plan = plan;
    jobs.push({ point, job: { plan, threshold: Infinity, cluster: target.overrides } });
  }
  const results = await pool.run(jobs.map((j) => j.job));
  results.forEach((r, i) => {
    const { point } = jobs[i]!;
    if (r.kind === 'simulated' && r.summary) {
      point.stepSeconds = r.stepSeconds;
      point.totalHours = r.summary.run.totalHours;
      point.gpuHours = r.summary.run.gpuHours;
    } else point.skipped = r.kind === 'memory' || (r.kind === 'simulated' && !r.fits) ? 'does not fit in GPU memory' : 'not simulated';
  });
  return points;
}

/** The cluster at this size; on a two-switch fabric with too few ports, the widest trunk that still fits. */
function fitCluster(name: string, overrides: ClusterOverrides): { cluster: Cluster; overrides: ClusterOverrides; trunkLinks?: number } | { skipped: string } {
  try {
    return { cluster: loadCluster(name, overrides), overrides };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const base = loadCluster(name, { ...overrides, nodes: 1 });
    if (base.fabric.type !== 'two-switch' || overrides.trunkLinks !== undefined) return { skipped: e.message };
    const trunkLinks = base.ibSwitch.ports - Math.ceil(base.hcasPerNode / 2) * overrides.nodes!;
    if (trunkLinks < 1) return { skipped: e.message };
    try {
      const o = { ...overrides, trunkLinks };
      return { cluster: loadCluster(name, o), overrides: o, trunkLinks };
    } catch (e2) {
      if (!(e2 instanceof InputError)) throw e2;
      return { skipped: e2.message };
    }
  }
}
