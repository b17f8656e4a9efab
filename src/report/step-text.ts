import type { SimulationSummary } from '../sim/run/summary.js';
import { COMMUNICATOR_WORDS } from '../workload/communicators.js';

/** The `neox-sim simulate` report for a terminal: plan, step time, per-stage tables, throughput, memory, run. */
export function formatSummary(s: SimulationSummary): string {
  const L: string[] = [];
  const p = s.plan;
  const T = s.step.seconds;
  L.push(`${s.model.name} on ${s.cluster.name}: ${s.cluster.gpus} × ${s.cluster.gpu} (${s.cluster.nodes} nodes × ${s.cluster.gpusPerNode})`);
  L.push(
    `Plan: TP ${p.tp} × PP ${p.pp} × DP ${p.dp} = ${p.gpus} GPUs; micro-batch ${p.microBatch} × ${p.gradAccumSteps} micro-batches × DP ${p.dp} = ` +
      `global batch ${p.globalBatch} × ${p.seqLength} tokens; ZeRO ${p.zeroStage}, recompute ${p.recompute}, ${p.schedule}` +
      `${p.schedule === 'interleaved' ? ` (v = ${p.virtualStages})` : ''}, ranks ordered ${p.rankOrder.join(',')} (outermost first), p2p ${p.p2p}`,
  );
  L.push('');
  L.push(`Step time ${fix(T, 2)} s   ${int(s.step.rates.tokensPerStep)} tokens per step → ${int(s.step.rates.tokensPerSecond)} tokens/s`);
  L.push('');
  L.push('Where a step goes, per pipeline stage (seconds, mean over the stage\'s GPUs; the columns add up to the step)');
  L.push(row(['stage', 'forward', 'recompute', 'backward', 'optimizer', 'exp. TP', 'exp. PP', 'exp. DP', 'bubble', 'total'], [5, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
  for (const st of s.step.stages) {
    const b = st.seconds;
    const total = b.forward + b.recompute + b.backward + b.optimizer + b.exposedTp + b.exposedPp + b.exposedDp + b.bubble;
    L.push(row([String(st.pipe), ...[b.forward, b.recompute, b.backward, b.optimizer, b.exposedTp, b.exposedPp, b.exposedDp, b.bubble, total].map((x) => fix(x, 3))], [5, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
  }
  if (s.step.ranks) {
    L.push('');
    L.push('Per rank (seconds)');
    const w = [5, 5, 5, 6, 9, 9, 9, 9, 9, 9, 9, 9];
    L.push(row(['rank', 'pipe', 'data', 'model', 'forward', 'recompute', 'backward', 'optimizer', 'exp. TP', 'exp. PP', 'exp. DP', 'bubble'], w));
    for (const b of s.step.ranks) {
      L.push(row([String(b.rank), String(b.pipe), String(b.data), String(b.model), ...[b.forward, b.recompute, b.backward, b.optimizer, b.exposedTp, b.exposedPp, b.exposedDp, b.bubble].map((x) => fix(x, 3))], w));
    }
  }
  L.push('');
  L.push('Communication per stage: running / hidden behind compute / exposed (seconds)');
  L.push(row(['stage', 'TP all-reduce', 'pipeline p2p', 'DP / ZeRO'], [5, 24, 24, 24]));
  for (const st of s.step.stages) {
    const b = st.seconds;
    const c = (run: number, hid: number, exp: number) => `${fix(run, 2)} / ${fix(hid, 2)} / ${fix(exp, 2)}`;
    L.push(row([String(st.pipe), c(b.commTp, b.hiddenTp, b.exposedTp), c(b.commPp, b.hiddenPp, b.exposedPp), c(b.commDp, b.hiddenDp, b.exposedDp)], [5, 24, 24, 24]));
  }
  const links = s.step.links;
  if (links) {
    L.push('');
    L.push('Link load over the step (bytes carried; utilisation = bytes / (capacity × step time))');
    for (const [cls, u] of Object.entries(links.byClass)) {
      if (u.bytes > 0) L.push(`  ${cls.padEnd(12)} ${String(u.links).padStart(5)} links  ${gb(u.bytes).padStart(10)}  ${(100 * u.utilisation).toFixed(1).padStart(5)}%`);
    }
    const top = links.busiest.slice(0, 3).map((l) => `${l.name} ${(100 * l.utilisation).toFixed(1)}%`);
    if (top.length) L.push(`  busiest: ${top.join('; ')}`);
  }
  L.push('');
  const r = s.step.rates;
  L.push('Throughput per GPU');
  const tw = [48, 14, 16, 8];
  L.push(row(['convention', 'FLOP per step', 'TFLOP/s per GPU', 'paper'], tw));
  L.push(row(['6·N·tokens (model FLOPs, "MFU")', sci(r.sixN.flops), fix(r.sixN.tflopsPerGpu, 1), ''], tw));
  L.push(row([`Megatron ${r.megatron.recompute ? 'with recompute (96' : 'no recompute (72'}·B·s·l·h²·(…))`, sci(r.megatron.flops), fix(r.megatron.tflopsPerGpu, 1), ''], tw));
  L.push(row(['gpt-neox 2022 logger (6·P + 60·s·h·L per token)', sci(r.neoxLogger2022.flops), fix(r.neoxLogger2022.tflopsPerGpu, 1), String(s.step.paperTflopsPerGpu)], tw));
  L.push(row(['matmul FLOPs the simulated GPUs ran', sci(r.simulatedMatmul.flops), fix(r.simulatedMatmul.tflopsPerGpu, 1), ''], tw));
  L.push('');
  L.push(...memoryTable(s.memory));
  L.push('');
  const run = s.run;
  const h = (sec: number) => (Math.abs(sec) >= 360 || !Number.isFinite(sec) ? `${fix(sec / 3600, 1)} h` : `${fix(sec / 60, 1)} min`);
  const w = [60, 12, 20];
  L.push(row([`Whole run: ${int(run.steps)} steps`, 'simulated', 'GPT-NeoX-20B paper'], w));
  L.push(row([`steps × step time (${fix(T, 2)} s)`, h(run.trainingSeconds), ''], w));
  L.push(row([`evaluation: ${run.evals} × ${run.settings.evalIters} forward-only iterations × ${fix(s.eval.iterSeconds, 2)} s`, h(run.evalSeconds), ''], w));
  L.push(row([`checkpoints: ${run.saves} × ${gb(run.checkpoint.totalBytes)}, ${fix(run.secondsPerSave, 0)} s each`, h(run.savingSeconds), ''], w));
  const f = run.failures;
  const mtbf = run.settings.mtbfHoursPerGpu;
  const mtbfText = Number.isFinite(mtbf) ? `${mtbf < 100 ? String(+mtbf.toPrecision(3)) : int(mtbf)} GPU-hours` : 'infinite (no failures)';
  if (Number.isFinite(run.totalSeconds)) {
    L.push(row([`failures: ${fix(f.expectedFailures, 1)} expected × ${fix(f.costPerFailure / 60, 0)} min lost each`, h(f.lostSeconds), ''], w));
    L.push(row(['total wall-clock', h(run.totalSeconds), `${int(run.paper.hours)} h`], w));
    L.push(row([`GPU-hours (× ${p.gpus})`, run.gpuHours < 100 ? fix(run.gpuHours, 2) : int(run.gpuHours), `${int(run.paper.gpuHours)}`], w));
    L.push(row(['average seconds per step, all included', fix(run.totalSeconds / Math.max(1, run.steps), 2), fix((run.paper.hours * 3600) / run.paper.steps, 2)], w));
  } else {
    // λ·c ≥ 1 (src/sim/run/failures.ts): a failure is expected before the last one's cost is paid back.
    L.push(row([`failures: one every ${h(1 / f.rate)} × ${fix(f.costPerFailure / 60, 0)} min lost each`, 'never ends', ''], w));
    L.push(row(['total wall-clock', 'never ends', `${int(run.paper.hours)} h`], w));
    L.push(row([`GPU-hours (× ${p.gpus})`, 'never ends', `${int(run.paper.gpuHours)}`], w));
    L.push(row(['average seconds per step, all included', 'never ends', fix((run.paper.hours * 3600) / run.paper.steps, 2)], w));
    L.push(
      `  the run never finishes: the expected time between failures (${h(1 / f.rate)}: MTBF ${mtbfText} / ${p.gpus} GPUs) is shorter than what each ` +
        `failure costs (${h(f.costPerFailure)}: restart + checkpoint reload + half a checkpoint interval of lost work)`,
    );
  }
  L.push(`  checkpoint write ${gb(run.settings.ckptWriteBandwidthPerNode)}/s per node; MTBF ${mtbfText}; restart ${fix(run.settings.restartSeconds / 60, 0)} min`);
  L.push('');
  L.push('Where the time goes');
  for (const line of s.step.explanation) L.push(`  - ${line}`);
  for (const wn of s.warnings) L.push(`warning: ${wn}`);
  return `${L.join('\n')}\n`;
}

/** Peak memory per stage by category against the budget, the runtime reserve's parts, and why a stage does not fit. */
function memoryTable(mem: SimulationSummary['memory']): string[] {
  const L: string[] = [];
  const headroom = mem.headroomBytes > 0 || 'fraction' in mem.headroom
    ? `less ${gb(mem.headroomBytes)} allocator headroom = ${gb(mem.budgetBytes)}`
    : 'allocator headroom 0 (none set; --memory-headroom)';
  L.push(`Peak memory per GPU (the highest rank of each stage) vs ${gib(mem.capacityBytes)} usable of ${gib(mem.nominalBytes)} (${gb(mem.nominalBytes)}); ${headroom}`);
  const cols = [5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 8, 5, 9];
  L.push(row(['stage', 'params', 'grads', 'master', 'Adam', 'ckpt act', 'stored', 'recomp', 'buckets', 'logits', 'p2p', 'runtime', 'other', 'peak', 'at (s)', 'fits', 'margin'], cols));
  for (const m of mem.stages) {
    const c = m.byCategory;
    const shown = c['fp16-params'] + c['fp16-grads'] + c['fp32-grads'] + c['fp32-master'] + c['adam-m'] + c['adam-v'] + c['checkpointed-activations'] +
      c['stored-activations'] + c['recompute-working-set'] + c['comm-buckets'] + c.logits + c['p2p-buffers'] + c.runtime;
    L.push(row([
      String(m.pipe), gbn(c['fp16-params']), gbn(c['fp16-grads'] + c['fp32-grads']), gbn(c['fp32-master']), gbn(c['adam-m'] + c['adam-v']),
      gbn(c['checkpointed-activations']), gbn(c['stored-activations']), gbn(c['recompute-working-set']), gbn(c['comm-buckets']), gbn(c.logits),
      gbn(c['p2p-buffers']), gbn(c.runtime), gbn(m.peakBytes - shown), gbn(m.peakBytes), fix(m.peakSeconds, 2), m.fits ? 'yes' : 'NO', `${m.marginBytes >= 0 ? '+' : ''}${gbn(m.marginBytes)}`,
    ], cols));
  }
  L.push('  (GB = 1e9 bytes, at the moment of each stage\'s peak; model states = params + grads + master + Adam; runtime = CUDA context,');
  L.push('   NCCL buffers and cuBLAS workspaces, held the whole run; the rest comes and goes with the schedule; other = ZeRO-3 gathered parameters)');
  const first = mem.stages[0]?.runtime;
  if (first && first.bytes > 0) {
    L.push(`Runtime reserve: CUDA context ${gb2(first.cudaContextBytes)} + cuBLAS workspaces ${gb2(first.cublasWorkspaceBytes)} + NCCL buffers ` +
      `${mem.stages.map((m) => gb2(m.runtime.ncclBytes)).join(' / ')} (stage ${mem.stages.map((m) => m.pipe).join(' / ')})`);
    const worst = mem.stages.reduce((a, b) => (b.runtime.ncclBytes > a.runtime.ncclBytes ? b : a));
    const comms = worst.runtime.communicators.map((x) => `${COMMUNICATOR_WORDS[x.kind]} ${x.ranks} ranks × ${x.channels} ch ${gb2(x.bytes)}`);
    if (comms.length) L.push(`  NCCL communicators of rank ${worst.rank} (stage ${worst.pipe}): ${comms.join('; ')}`);
  }
  for (const m of mem.stages.filter((x) => !x.fits)) {
    L.push(`Stage ${m.pipe} does not fit: it peaks at ${gb2(m.peakBytes)} > ${gb2(mem.budgetBytes)}, of which ${gb2(m.modelStateBytes)} model states, ` +
      `${gb2(m.activationBytes)} activations and buffers, and ${gb2(m.runtime.bytes)} runtime reserve (CUDA context, NCCL buffers, cuBLAS workspaces).`);
  }
  return L;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ').trimEnd();
}
const fix = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));
const sci = (x: number) => x.toExponential(3);
const gbn = (b: number) => (b / 1e9).toFixed(2);
const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
const gb2 = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
