import type { NeoXConfig } from '../../model/config.js';
import { megatronFlops, neoxLogger2022FlopsPerToken, sixNFlopsPerToken } from '../../model/flops.js';
import { globalBatch, type Plan } from '../../workload/plan-types.js';
import { KIND } from '../../workload/task-graph.js';
import type { Timeline } from '../executor/executor.js';

/** FLOPs of one optimizer step under each convention people quote, and the rate per GPU each implies. */
export interface StepRates {
  tokensPerStep: number;
  tokensPerSecond: number;
  /** 6 · unique parameters · tokens (Kaplan; "MFU" numerator). */
  sixN: { flops: number; tflopsPerGpu: number };
  /** Narayanan et al. 2021: 96·B·s·l·h²·(1 + s/6h + V/16lh) with full recompute, 72·…(V/12lh) without. */
  megatron: { flops: number; tflopsPerGpu: number; recompute: boolean };
  /** gpt-neox's 2022 logger: (6·P_printed + 60·s·h·L) per token — the formula behind the paper's 117. */
  neoxLogger2022: { flops: number; tflopsPerGpu: number };
  /** Matmul FLOPs the simulated GPUs actually ran (the op lists of every compute task, recompute included). */
  simulatedMatmul: { flops: number; tflopsPerGpu: number };
}

/** GPT-NeoX-20B paper: "117 teraFLOPS per GPU" (neox-20b.md §1.3), computed with the 2022 logger formula (§1.5). */
export const PAPER_TFLOPS_PER_GPU = 117;

export function stepRates(cfg: NeoXConfig, plan: Plan, t: Timeline): StepRates {
  const gpus = t.graph.ranks;
  const tokens = globalBatch(plan) * plan.seqLength;
  const perGpu = (flops: number) => flops / (t.stepTime * gpus) / 1e12;
  const sixN = sixNFlopsPerToken(cfg, plan.tp) * tokens;
  const recompute = plan.recompute === 'full';
  const megatron = megatronFlops(cfg, { batch: globalBatch(plan), seqLength: plan.seqLength }, recompute, plan.tp).total;
  const logger = neoxLogger2022FlopsPerToken(cfg, plan.tp, plan.pp, plan.seqLength) * tokens;
  const simulated = simulatedMatmulFlops(t);
  return {
    tokensPerStep: tokens,
    tokensPerSecond: tokens / t.stepTime,
    sixN: { flops: sixN, tflopsPerGpu: perGpu(sixN) },
    megatron: { flops: megatron, tflopsPerGpu: perGpu(megatron), recompute },
    neoxLogger2022: { flops: logger, tflopsPerGpu: perGpu(logger) },
    simulatedMatmul: { flops: simulated, tflopsPerGpu: perGpu(simulated) },
  };
}

/** Op kinds whose FLOPs are matrix products on the tensor cores (a fused FlashAttention kernel's are its two or five products). */
const MATMUL_KINDS: ReadonlySet<string> = new Set(['gemm', 'bmm', 'flash-attention', 'flash-attention-backward']);

/** Sum over every rank's compute tasks of their matrix-product FLOPs. */
export function simulatedMatmulFlops(t: Timeline): number {
  const g = t.graph;
  const seqFlops = g.opSeqs.map((s) => s.ops.reduce((a, op) => a + (MATMUL_KINDS.has(op.kind) ? op.flops : 0), 0));
  const perProgram = g.programs.map((p) => {
    let f = 0;
    for (let i = 0; i < p.size; i++) if (p.kind[i] === KIND.compute) f += seqFlops[p.opSeq[i]!]!;
    return f;
  });
  let total = 0;
  for (let r = 0; r < g.ranks; r++) total += perProgram[g.programOfRank[r]!]!;
  return total;
}
