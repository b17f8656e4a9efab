import { InputError } from '../common/errors.js';
import { type ClusterOverrides, loadCluster } from '../hardware/cluster.js';
import { loadNcclProfile } from '../hardware/nccl-profile.js';
import type { NeoXConfig } from '../model/config.js';
import { memoryBudget, type Headroom } from '../sim/memory/budget.js';
import type { RunSettings } from '../sim/run/run-settings.js';
import { clusterMachine } from '../sim/run/simulate.js';
import type { SimulationSummary } from '../sim/run/summary.js';
import type { Plan } from '../workload/plan-types.js';
import { type Enumeration, enumeratePlans, type EnumerationLevel, type SweepChoices } from './enumerate.js';
import { createPool } from './pool.js';
import { QuickBounder } from './quick-bounds.js';
import { paretoFront } from './pareto.js';
import { planRow, type PlanRow } from './rows.js';
import { scalePlan, scalingNodeCounts, type ScalingPoint } from './scaling.js';
import { type DroppedPlan, type SearchProgress, type SearchResult, searchPlans } from './search.js';
import type { StepTimeline } from './step-timeline.js';

/** Version tag of `neox-sim plan --json` (bump on any incompatible change). */
export const PLAN_SCHEMA = 'neox-sim/plan@1';

export interface PlannerInput {
  cfg: NeoXConfig;
  /** How the user named the model: a preset or the config file(s). */
  modelLabel: string;
  clusterName: string;
  overrides: ClusterOverrides;
  nccl: string;
  globalBatch: number;
  /** Fields every plan shares (sequence length, precision, buckets, overlap, partition, dropout). */
  base: Partial<Plan>;
  /** The plan the run actually used, to compare with. */
  reference?: { plan: Plan; label: string };
  settings: RunSettings;
  choices: SweepChoices;
  top: number;
  workers: number;
  pricePerGpuHour?: number;
  /** Allocator headroom taken off every GPU's usable memory (default none). */
  headroom?: Headroom;
  /** Also simulate what a report shows: the best plan's timeline and the plan family at other sizes. */
  detail: boolean;
  onProgress?: (p: SearchProgress) => void;
}

export interface PlannerResult {
  schema: typeof PLAN_SCHEMA;
  model: { name: string; label: string; params: number; layers: number; hidden: number; heads: number };
  /** capacityBytes: what CUDA reports; budgetBytes: that less the allocator headroom, what every peak (runtime reserve included) must fit in. */
  cluster: { name: string; nodes: number; gpusPerNode: number; gpus: number; gpu: string; capacityBytes: number; nominalBytes: number; headroomBytes: number; budgetBytes: number };
  globalBatch: number;
  seqLength: number;
  steps: number;
  pricePerGpuHour: number | null;
  space: { levels: EnumerationLevel[]; plans: number; notNeox2022: number };
  counts: SearchResult['counts'];
  top: number;
  kthSeconds: number | null;
  rows: PlanRow[];
  reference: { label: string; row?: PlanRow; dropped?: DroppedPlan } | null;
  /** Best plan against the reference: step-time ratio and hours saved. */
  comparison: { speedup: number; stepSeconds: [number, number]; totalHours: [number, number] } | null;
  /** Every simulated plan: step time against peak memory (the plan space). */
  simulated: { key: string; stepSeconds: number; peakBytes: number; fits: boolean }[];
  /** Keys of the simulated plans that fit and that no other fitting plan beats on both step time and memory. */
  pareto: string[];
  dropped: DroppedPlan[];
  best: { summary: SimulationSummary; timeline?: StepTimeline } | null;
  referenceSummary: SimulationSummary | null;
  /** The best plan's family (and the reference plan's) at other node counts, for a report. */
  scaling: { best: ScalingPoint[]; reference: ScalingPoint[] | null } | null;
  workers: number;
}

export async function runPlanner(x: PlannerInput): Promise<PlannerResult> {
  const cluster = loadCluster(x.clusterName, x.overrides);
  const machine = clusterMachine(cluster, loadNcclProfile(x.nccl));
  const enumeration = enumeratePlans({ cfg: x.cfg, gpus: cluster.gpuCount, gpusPerNode: cluster.gpusPerNode, globalBatch: x.globalBatch, base: x.base, choices: x.choices });
  if (enumeration.plans.length === 0) throw emptySpace(enumeration, x.globalBatch);
  const budget = memoryBudget(cluster.gpu.hbmUsableBytes, x.headroom);
  const pool = createPool({ cfg: x.cfg, cluster: { name: x.clusterName, overrides: x.overrides }, nccl: x.nccl, settings: x.settings, headroom: x.headroom }, x.workers);
  try {
    const search = await searchPlans(enumeration, new QuickBounder(x.cfg, machine), pool, {
      top: x.top, capacityBytes: budget.budgetBytes, reference: x.reference?.plan, onProgress: x.onProgress,
    });
    // Every top-k plan was summarized when simulated, unless it tied the threshold then: summarize it now.
    const topK = search.ranked.slice(0, x.top);
    const missing = topK.filter((s) => !s.summary);
    const filled = await pool.run(missing.map((s) => ({ plan: s.plan, threshold: Infinity, summary: true })));
    missing.forEach((s, i) => {
      const r = filled[i]!;
      if (r.kind === 'simulated') s.summary = r.summary;
    });
    const detailed = topK.filter((s): s is typeof s & { summary: SimulationSummary } => s.summary !== undefined);
    const rows = detailed.map((s, i) => planRow(s, i + 1, x.pricePerGpuHour));
    const ref = search.reference;
    let reference: PlannerResult['reference'] = null;
    let referenceSummary: SimulationSummary | null = null;
    if (x.reference && ref) {
      if ('dropped' in ref) reference = { label: x.reference.label, dropped: ref.dropped };
      else if (ref.summary) {
        const rank = rows.find((r) => r.key === ref.key)?.rank ?? null;
        reference = { label: x.reference.label, row: planRow({ ...ref, summary: ref.summary }, rank, x.pricePerGpuHour) };
        referenceSummary = ref.summary;
      }
    }
    const bestRow = rows[0];
    const comparison = bestRow && reference?.row
      ? { speedup: reference.row.stepSeconds / bestRow.stepSeconds, stepSeconds: [bestRow.stepSeconds, reference.row.stepSeconds] as [number, number], totalHours: [bestRow.totalHours, reference.row.totalHours] as [number, number] }
      : null;

    let best: PlannerResult['best'] = bestRow ? { summary: detailed[0]!.summary } : null;
    let scaling: PlannerResult['scaling'] = null;
    if (x.detail && bestRow) {
      const [r] = await pool.run([{ plan: bestRow.plan, threshold: Infinity, summary: true, timeline: true }]);
      if (r!.kind === 'simulated' && r!.summary) best = { summary: r!.summary, timeline: r!.timeline };
      const sizes = scalingNodeCounts(cluster.nodes);
      const scale = (p: Plan) => scalePlan(x.cfg, x.clusterName, x.overrides, p, x.globalBatch, sizes, pool);
      const [bestScaling, referenceScaling] = await Promise.all([scale(bestRow.plan), reference?.row && reference.row.key !== bestRow.key ? scale(reference.row.plan) : null]);
      scaling = { best: bestScaling, reference: referenceScaling };
    }
    const all = [...search.ranked, ...search.overCapacity].sort((a, b) => a.stepSeconds - b.stepSeconds || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      schema: PLAN_SCHEMA,
      model: { name: x.cfg.name, label: x.modelLabel, params: bestRow ? detailed[0]!.summary.model.params : NaN, layers: x.cfg.numLayers, hidden: x.cfg.hiddenSize, heads: x.cfg.numHeads },
      cluster: {
        name: cluster.name, nodes: cluster.nodes, gpusPerNode: cluster.gpusPerNode, gpus: cluster.gpuCount, gpu: cluster.gpu.name,
        capacityBytes: cluster.gpu.hbmUsableBytes, nominalBytes: cluster.gpu.hbmBytes, headroomBytes: budget.headroomBytes, budgetBytes: budget.budgetBytes,
      },
      globalBatch: x.globalBatch,
      seqLength: x.base.seqLength ?? x.cfg.seqLength,
      steps: x.settings.steps,
      pricePerGpuHour: x.pricePerGpuHour ?? null,
      space: { levels: enumeration.levels, plans: enumeration.plans.length, notNeox2022: enumeration.notNeox2022 },
      counts: search.counts,
      top: x.top,
      kthSeconds: Number.isFinite(search.kthSeconds) ? search.kthSeconds : null,
      rows,
      reference,
      comparison,
      simulated: all.map((s) => ({ key: s.key, stepSeconds: s.stepSeconds, peakBytes: s.peakBytes, fits: s.fits })),
      pareto: paretoFront(search.ranked).map((s) => s.key),
      dropped: search.dropped,
      best,
      referenceSummary,
      scaling,
      workers: pool.workers,
    };
  } finally {
    await pool.close();
  }
}

/** No valid plan: name the global batch if no data-parallel degree divides it, else the rules that dropped everything. */
function emptySpace(e: Enumeration, globalBatch: number): InputError {
  const dps = e.dataParallelDegrees;
  if (dps.length && dps.every((d) => globalBatch % d !== 0)) {
    return InputError.field('plan', '--global-batch', `a multiple of a data-parallel degree this cluster allows (${dps.join(', ')})`, globalBatch);
  }
  const rules = e.levels.flatMap((l) => l.dropped.map((d) => `${d.count} × ${d.rule}`));
  return new InputError(`plan: expected at least one valid plan; every candidate was dropped${rules.length ? `: ${rules.join('; ')}` : ' (the sweep options leave no candidate)'}`);
}
