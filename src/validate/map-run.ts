import { InputError } from '../common/errors.js';
import type { ClusterOverrides } from '../hardware/cluster.js';
import type { NeoXConfig } from '../model/config.js';
import { makePlan, validatePlan } from '../workload/plan.js';
import type { Plan } from '../workload/plan-types.js';
import { frameworkOf, type Framework } from './frameworks.js';
import { publishedSeconds, type PublishedRun } from './runs-file.js';

/**
 * A published run as neox-sim sees it: the model, cluster and plan to simulate, what had to be assumed,
 * and the published figures to compare against. A run neox-sim cannot represent is skipped with the reason.
 */
export interface MappedRun {
  run: PublishedRun;
  framework: Framework;
  cfg: NeoXConfig;
  cluster: { profile: string; overrides: ClusterOverrides; label: string };
  plan: Plan;
  assumptions: string[];
  published: { seconds: number; basis: string; tflopsPerGpu: number | null };
}

export type RunMapping = { ok: true; mapped: MappedRun } | { ok: false; run: PublishedRun; reason: string };

/** GPU names in run files → neox-sim's GPU profiles (hardware-profiles/gpus). */
const GPUS: [RegExp, string][] = [
  [/^a100[- ]sxm4?[- ]80\s*gb$/i, 'a100-80gb'],
  [/^a100[- ]sxm4?[- ]40\s*gb$/i, 'a100-40gb'],
  [/^h100[- ]sxm5?[- ]80\s*gb$/i, 'h100'],
  [/^h100[- ]80\s*gb[- ]sxm5?$/i, 'h100'],
];

/**
 * Machines neox-sim has a server and fabric profile for, recognised from the run's hardware description:
 * the GPT-NeoX-20B servers on their two-switch fabric, DGX A100 nodes on a fat tree (Selene), and DGX H100
 * nodes on an NDR fat tree (Eos is a DGX H100 SuperPOD). `hcaGbps` is the HCA profile's port rate
 * (ConnectX-6 HDR, ConnectX-7 NDR).
 */
const MACHINES: { test: RegExp; profile: string; hcas: number; hcaGbps: number; hca: string; what: string }[] = [
  { test: /AS-4124GO-NART/i, profile: 'supermicro12', hcas: 4, hcaGbps: 200, hca: 'HDR (ConnectX-6)', what: 'Supermicro AS-4124GO-NART servers, two MQM8700 switches' },
  { test: /DGX A100/i, profile: 'dgx-a100', hcas: 8, hcaGbps: 200, hca: 'HDR (ConnectX-6)', what: 'DGX A100 nodes on a non-blocking HDR fat tree' },
  { test: /DGX[- ]?H100|\bEos\b/i, profile: 'dgx-h100', hcas: 8, hcaGbps: 400, hca: 'NDR (ConnectX-7)', what: 'DGX H100 nodes on a non-blocking NDR fat tree' },
];

/**
 * The run's `flash_attention` text → the attention kernel. "no…" (or nothing) = the materialized kernels;
 * "yes…", "FA…" or "flash…" = FlashAttention, timed as FlashAttention-2 with the GPU profile's efficiencies;
 * anything else is not guessed at: the run is skipped with the text.
 */
export function attentionKernelOf(text: string): 'materialized' | 'flash' | undefined {
  const t = text.trim();
  if (t === '' || /^no\b/i.test(t)) return 'materialized';
  if (/^(yes|fa\d?\b|flash)/i.test(t)) return 'flash';
  return undefined;
}

export function mapRun(run: PublishedRun, file: string): RunMapping {
  const skip = (reason: string): RunMapping => ({ ok: false, run, reason });
  const framework = frameworkOf(run);
  if (!framework) return skip(`framework "${run.framework}": neox-sim knows Megatron-LM and GPT-NeoX`);
  const { parallelism: par, model: m, hardware: hw } = run;
  if (m.heads % m.kvHeads !== 0) return skip(`${m.kvHeads} KV heads do not divide the ${m.heads} query heads into equal groups`);
  if (m.kvHeads !== m.heads && m.kvHeads % par.tp !== 0) return skip(`TP ${par.tp} does not divide the ${m.kvHeads} KV heads (Megatron-core splits KV heads over TP ranks and does not replicate them)`);
  if (par.cp > 1) return skip(`context parallelism (cp ${par.cp}) is not modelled`);
  if (par.ep !== null && par.ep > 1) return skip(`expert parallelism (ep ${par.ep}) is not modelled`);
  if (par.fsdp) return skip('FSDP is not modelled (ZeRO-3 is close, but not the same schedule)');
  const attentionKernel = attentionKernelOf(run.flashAttention);
  if (!attentionKernel) return skip(`flash_attention "${run.flashAttention}": not recognised (expected text starting with "no", "yes", "FA" or "flash")`);

  const gpu = GPUS.find(([re]) => re.test(hw.gpu.trim()))?.[1];
  if (!gpu) return skip(`GPU "${hw.gpu}": no profile (neox-sim has A100-SXM4 40/80 GB and H100-SXM5 80 GB)`);
  const machine = MACHINES.find((x) => x.test.test(hw.description));
  if (!machine) return skip(`hardware "${hw.description}": no server/fabric profile (neox-sim has ${MACHINES.map((x) => x.what).join('; ')})`);
  if (hw.gpusPerNode !== 8) return skip(`${hw.gpusPerNode} GPUs per node: the server profiles hold 8`);
  if (hw.nicGbps !== machine.hcaGbps) return skip(`${hw.nicGbps} Gb/s HCAs: the ${machine.profile} profile has ${machine.hcaGbps} Gb/s ${machine.hca} HCAs`);
  const overrides: ClusterOverrides = { nodes: hw.numNodes, gpu, ...(hw.nicsPerNode !== machine.hcas ? { nicsPerNode: hw.nicsPerNode } : {}) };

  const where = (field: string) => `${run.id}: ${field}`;
  if (par.tp * par.pp * par.dp !== hw.numGpus) {
    throw InputError.field(file, where('parallelism.dp'), `tp × pp × dp = hardware.num_gpus (${hw.numGpus})`, `${par.tp} × ${par.pp} × ${par.dp} = ${par.tp * par.pp * par.dp}`);
  }
  const perStep = run.batch.microBatch * par.dp;
  const gas = run.batch.gradAccum ?? run.batch.globalBatch / perStep;
  if (!Number.isInteger(gas) || gas * perStep !== run.batch.globalBatch) {
    throw InputError.field(file, where('batch.grad_accum'), `global_batch_seqs / (micro_batch × dp) = ${run.batch.globalBatch} / (${run.batch.microBatch} × ${par.dp})`, run.batch.gradAccum ?? gas);
  }
  if (![0, 1, 2, 3].includes(par.zeroStage)) throw InputError.field(file, where('parallelism.zero_stage'), '0, 1, 2 or 3', par.zeroStage);

  const cfg = {
    ...framework.model(run),
    ...(m.kvHeads !== m.heads ? { numKvHeads: m.kvHeads } : {}),
    ...(attentionKernel === 'flash' ? { attentionKernel } : {}),
  };
  const { fields, assumptions } = framework.plan(run);
  if (attentionKernel === 'flash') {
    assumptions.push(`FlashAttention ("${run.flashAttention}") timed as FlashAttention-2 with the ${gpu} profile's forward/backward efficiencies (Dao 2023)`);
  }
  if (gpu === 'h100') assumptions.push("collectives timed with NCCL 2.10.3's tuning model (no NVLS, no PXN), the only NCCL profile");
  const plan = makePlan(cfg, {
    ...fields, ...(par.sp ? { sequenceParallel: true } : {}), tp: par.tp, pp: par.pp, dp: par.dp, microBatch: run.batch.microBatch, gradAccumSteps: gas,
    zeroStage: par.zeroStage as Plan['zeroStage'], recompute: recomputeOf(run, file), precision: precisionOf(run, file),
  });
  try {
    validatePlan(cfg, plan, { source: run.id, gpus: hw.numGpus, globalBatch: run.batch.globalBatch });
  } catch (e) {
    if (e instanceof InputError) return skip(`plan not representable: ${e.message}`);
    throw e;
  }
  const label = `${machine.profile} × ${hw.numNodes} nodes, ${gpu}${overrides.nicsPerNode ? `, ${overrides.nicsPerNode} HCAs per node` : ''}`;
  return {
    ok: true,
    mapped: {
      run, framework, cfg, plan, assumptions,
      cluster: { profile: machine.profile, overrides, label },
      published: { ...publishedSeconds(run), tflopsPerGpu: run.reported.tflopsPerGpu },
    },
  };
}

function recomputeOf(run: PublishedRun, file: string): Plan['recompute'] {
  const r = run.recompute.trim().toLowerCase();
  if (r.startsWith('full')) return 'full';
  if (r.startsWith('selective')) return 'selective';
  if (r.startsWith('none') || r.startsWith('no')) return 'none';
  throw InputError.field(file, `${run.id}: recompute`, 'a description starting with "full", "selective" or "none"', run.recompute);
}

function precisionOf(run: PublishedRun, file: string): Plan['precision'] {
  if (/\bbf16\b/i.test(run.precision)) return 'bf16';
  if (/\bfp16\b/i.test(run.precision)) return 'fp16';
  throw InputError.field(file, `${run.id}: precision`, 'fp16 or bf16 mixed precision', run.precision);
}

/** The plan in a few words: TP (+SP)/PP/DP, micro-batch × GAS, schedule, ZeRO, and recompute unless full. */
export function planLabel(plan: Plan): string {
  const sched = plan.pp === 1 ? '' : plan.schedule === 'interleaved' ? ` interleaved v${plan.virtualStages}` : ` ${plan.schedule}`;
  const sp = plan.sequenceParallel ? '+SP' : '';
  const recompute = plan.recompute === 'full' ? '' : ` ${plan.recompute} recompute`;
  return `TP${plan.tp}${sp} PP${plan.pp} DP${plan.dp} mb${plan.microBatch}×${plan.gradAccumSteps}${sched}${plan.zeroStage ? ` ZeRO-${plan.zeroStage}` : ''}${recompute}`;
}
