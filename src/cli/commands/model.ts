/** `neox-sim model show|export|list`: the exact accounting of a NeoX model (presets or gpt-neox YAML). */
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { InputError } from '../../common/errors.js';
import { defaultTraining, type NeoxRun } from '../../model/neox-args.js';
import { exportNeoxYaml } from '../../model/neox-export.js';
import { importNeoxYaml } from '../../model/neox-yaml.js';
import type { ComputeOp, Op, Recompute } from '../../model/ops.js';
import { getPreset, PRESETS } from '../../model/presets.js';
import { summarizeModel, type FlopConventions, type ModelSummary } from '../../model/summary.js';

const HELP = `Usage: neox-sim model show   <preset> | --config file.yml [--config more.yml …] [options]
       neox-sim model export <preset> | --config file.yml … --out plan.yml [--tp N] [--pp N]
       neox-sim model list

show: architecture, exact parameter counts (unique, and as gpt-neox prints them at the given TP/PP, with
the difference explained), parameters per pipeline stage and TP rank, FLOPs per token and per step under
each convention (6N, Megatron with/without recompute, gpt-neox 2022 logger), activation memory per layer,
and the op list of one layer (forward, recompute, backward) with shapes, FLOPs and bytes on one TP rank.
Several --config files merge in order, like gpt-neox's deepy.py.

export: writes a gpt-neox config (gpt-neox key names) for the model at the given TP/PP, re-importable.

Options (defaults: a preset's plan is TP 1, PP 1, micro-batch 1, no recompute; a config's comes from it):
  --tp N                tensor-parallel degree (gpt-neox model-parallel-size)
  --pp N                pipeline stages (gpt-neox pipe-parallel-size)
  --micro-batch N       sequences per micro-batch
  --seq N               tokens per sequence (default: the model's seq-length)
  --recompute MODE      none | full | selective
  --global-batch N      sequences per optimizer step (for per-step FLOPs)
  --dp N                data-parallel degree: global batch = micro-batch × gradient accumulation × N
  --gas N               gradient-accumulation steps (with --dp)
  --vocab-size N        tokenizer ids, when a config's tokenizer_type does not tell
  --ops WHICH           layer (default) | all (adds embedding and head ops) | none
  --out FILE            (export) where to write the gpt-neox YAML
  --json                machine-readable output (every count exact; bytes, FLOPs)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      config: { type: 'string', multiple: true },
      tp: { type: 'string' },
      pp: { type: 'string' },
      'micro-batch': { type: 'string' },
      seq: { type: 'string' },
      recompute: { type: 'string' },
      'global-batch': { type: 'string' },
      dp: { type: 'string' },
      gas: { type: 'string' },
      'vocab-size': { type: 'string' },
      ops: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const [sub, preset, ...rest] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(HELP);
    if (values.help) return 0;
    throw InputError.field('model', 'subcommand', 'one of show, export, list (none given)');
  }
  if (sub === 'list') {
    for (const [name, c] of Object.entries(PRESETS)) {
      process.stdout.write(`${name.padEnd(12)} ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, seq ${c.seqLength}\n`);
    }
    return 0;
  }
  if (sub !== 'show' && sub !== 'export') throw new InputError(`model: unknown subcommand "${sub}"; expected: show, export, list`);
  if (rest.length) throw InputError.field(`model ${sub}`, 'arguments', 'one preset', [preset, ...rest].join(' '));
  if (preset && values.config) throw InputError.field(`model ${sub}`, 'arguments', 'a preset or --config files, not both', preset);
  if (!preset && !values.config) throw InputError.field(`model ${sub}`, '<preset>', `a preset (${Object.keys(PRESETS).join(', ')}) or --config file.yml`);

  const vocabSize = whole('--vocab-size', values['vocab-size']);
  const runSpec: NeoxRun = values.config
    ? importNeoxYaml(values.config, { vocabSize })
    : { model: getPreset(preset!), training: defaultTraining(), parallel: { pipeParallelSize: 1, modelParallelSize: 1, pipePartitionMethod: 'type:transformer|mlp' }, extra: {} };
  const fromFile = values.config !== undefined;
  const tp = whole('--tp', values.tp) ?? runSpec.parallel.modelParallelSize;
  const pp = whole('--pp', values.pp) ?? Math.max(1, runSpec.parallel.pipeParallelSize);

  if (sub === 'export') {
    if (!values.out) throw InputError.field('model export', '--out', 'a file to write the gpt-neox YAML to');
    const text = exportNeoxYaml(runSpec, { tp, pp, header: `GPT-NeoX config for ${runSpec.model.name} at TP ${tp}, PP ${pp}, written by neox-sim` });
    writeFileAtomic(values.out, text);
    process.stdout.write(`wrote ${values.out}\n`);
    return 0;
  }

  const t = runSpec.training;
  const microBatch = whole('--micro-batch', values['micro-batch']) ?? (fromFile ? t.trainMicroBatchSize ?? 1 : 1);
  const recompute = (values.recompute ?? (fromFile && t.checkpointActivations ? 'full' : 'none')) as Recompute;
  if (!['none', 'full', 'selective'].includes(recompute)) throw InputError.field('--recompute', '', 'none, full or selective', recompute);
  const dp = whole('--dp', values.dp);
  const gas = whole('--gas', values.gas) ?? t.gradientAccumulationSteps;
  const globalBatch = whole('--global-batch', values['global-batch']) ?? (dp !== undefined ? microBatch * gas * dp : t.globalBatch);
  const which = values.ops ?? 'layer';
  if (!['layer', 'all', 'none'].includes(which)) throw InputError.field('--ops', '', 'layer, all or none', which);

  const summary = summarizeModel(runSpec.model, {
    tp, pp, microBatch, recompute, globalBatch, seqLength: whole('--seq', values.seq),
    partitionMethod: runSpec.parallel.pipePartitionMethod,
    attentionDropout: fromFile ? t.attentionDropout : 0, hiddenDropout: fromFile ? t.hiddenDropout : 0,
  });
  const flash = JSON.stringify(runSpec.extra['attention-config'] ?? runSpec.extra.attention_config ?? '').includes('"flash"');
  const note = flash ? 'Note: the config asks for FlashAttention; the op list models the unfused 2022 attention kernels.\n' : '';
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : report(summary, which) + note);
  return 0;
}

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) throw InputError.field(flag, '', 'a whole number of at least 1', text);
  return Number(text);
}

const int = (n: number) => n.toLocaleString('en-US');

/** 4 significant digits with an SI prefix: 156.6 G, 1.394 P. */
function si(v: number, unit: string): string {
  if (v === 0) return `0 ${unit}`;
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z'];
  const i = Math.min(prefixes.length - 1, Math.max(0, Math.floor(Math.log10(Math.abs(v)) / 3)));
  return `${(v / 10 ** (3 * i)).toPrecision(4)} ${prefixes[i]}${unit}`;
}

function table(rows: string[][], right: number[] = []): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function report(s: ModelSummary, which: string): string {
  const m = s.model;
  const p = s.params;
  const { tp, pp } = s.plan;
  const lines: string[] = [];
  lines.push(`${m.name}: ${m.numLayers} layers, hidden ${m.hiddenSize}, ${m.numHeads} heads × ${m.headDim}, MLP ${m.ffnHiddenSize}, sequence ${m.seqLength}`);
  const positions = (m.positionEmbedding ?? 'rotary') === 'learned'
    ? `learned absolute positions (${int(m.maxPositionEmbeddings)} × ${int(m.hiddenSize)} table)`
    : `rotary on ${m.rotaryDims} of ${m.headDim} dims per head (base ${m.rotaryEmbBase})`;
  lines.push(`  ${positions}; vocabulary ${int(m.vocabSize)} ids → ${int(m.embeddingRows)} embedding rows`);
  lines.push(`  ${m.parallelResidual ? 'parallel residual (gpt_j_residual)' : 'sequential residual'}; GELU ${m.activation === 'gelu-tanh' ? 'tanh (fused bias-GELU)' : 'erf'}; ${m.tieWordEmbeddings ? 'tied' : 'untied'} input/output embeddings; LayerNorm eps ${m.layernormEpsilon}`);
  lines.push(`Plan: TP ${tp}, PP ${pp}, micro-batch ${s.plan.microBatch} × ${s.plan.seqLength} tokens, recompute ${s.plan.recompute}${s.plan.globalBatch ? `, global batch ${s.plan.globalBatch}` : ''}`);
  lines.push('', 'Parameters');
  lines.push(table([
    ['unique (HF checkpoint)', int(p.unique), `embedding ${int(p.embedding)}, non-embedding ${int(p.nonEmbedding)}, per layer ${int(p.perLayer)}`],
    [`printed by gpt-neox at TP ${tp}, PP ${pp}`, int(p.printed), `+${int(p.printed - p.unique)}`],
    ['  TP-replicated LayerNorms', `+${int(p.surplus.layerNorms)}`, ''],
    ['  TP-replicated row-parallel biases', `+${int(p.surplus.rowParallelBiases)}`, ''],
    ...(p.surplus.tiedEmbeddingCopy ? [['  tied embedding on two stages', `+${int(p.surplus.tiedEmbeddingCopy)}`, '']] : []),
  ], [1]).trimEnd());
  lines.push(
    '  gpt-neox sums p.nelement() over every rank of a model replica, so a tensor that each TP rank holds in',
    '  full is counted once per rank. The row-parallel biases (attention.dense, mlp.dense_4h_to_h) are also',
    '  added once per rank before the single all-reduce: the effective bias is the SUM of the rank copies,',
    '  which is why tools/ckpts/merge20b.py sums them when merging TP 2 → 1.',
  );
  lines.push('', `Tensors (layer 0 shown; every layer has the same) and elements per TP rank at TP ${tp}`);
  lines.push(table([['tensor', 'shape', 'elements', 'split', 'per rank'],
    ...s.tensors.map((t) => [t.name, t.shape.join('×'), int(t.numel), t.split, int(t.perRank)])], [2, 4]).trimEnd());
  lines.push('', `Pipeline stages (DeepSpeed partition of gpt-neox's layer list) and parameters per GPU`);
  lines.push(table([['stage', 'layers', 'holds', 'params per GPU'],
    ...s.stages.map((st) => [String(st.stage), st.endLayer > st.firstLayer ? `${st.firstLayer}–${st.endLayer - 1}` : '—', holds(st.entries), int(st.paramsPerRank)])], [3]).trimEnd());
  lines.push('', 'FLOPs (matmuls)');
  const conv: [string, keyof FlopConventions][] = [
    ['6·N', 'sixN'], ['Megatron, full recompute (96·B·s·l·h²·…)', 'megatronRecompute'],
    ['Megatron, no recompute (72·B·s·l·h²·…)', 'megatronNoRecompute'], [`gpt-neox 2022 logger (6·P_printed + 60·s·h·L)`, 'neoxLogger2022'],
  ];
  lines.push(table([['convention', 'per token', ...(s.flops.perStep ? ['per step'] : [])],
    ...conv.map(([label, k]) => [label, si(s.flops.perToken[k], 'FLOP'), ...(s.flops.perStep ? [si(s.flops.perStep[k], 'FLOP')] : [])])], [1, 2]).trimEnd());
  const o = s.flops.opListPerMicroBatch;
  const f = s.flops.megatronPerMicroBatch;
  lines.push(`  op list, one micro-batch, all TP ranks: dense ${si(o.dense, 'FLOP')} + attention ${si(o.attention, 'FLOP')} + logits ${si(o.logits, 'FLOP')} = ${si(o.total, 'FLOP')}`);
  lines.push(`  Megatron formula, same micro-batch:     dense ${si(f.dense, 'FLOP')} + attention ${si(f.attention, 'FLOP')} + logits ${si(f.logits, 'FLOP')} = ${si(f.total, 'FLOP')}`);
  const a = s.activationsPerLayer;
  lines.push('', `Activation memory per layer per micro-batch on one TP rank (recompute ${s.plan.recompute})`);
  lines.push(`  kept from forward to backward (op list): ${si(a.opList.stored, 'B')}; Korthikanti et al. formula: ${si(a.korthikanti, 'B')}`);
  if (s.plan.recompute !== 'none') lines.push(`  recompute working set (op list): ${si(a.opList.recomputeWorkingSet, 'B')}`);
  if (which !== 'none') {
    if (which === 'all') lines.push('', 'Embedding ops (first stage)', opTable(s.ops.embedding).trimEnd());
    lines.push('', `Ops of one transformer layer on one TP rank (TP ${tp}, micro-batch ${s.plan.microBatch})`, opTable(s.ops.layer).trimEnd());
    if (which === 'all') lines.push('', 'Head ops (last stage)', opTable(s.ops.head).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

function holds(entries: string[]): string {
  const layers = entries.filter((e) => e === 'ParallelTransformerLayerPipe').length;
  const others = entries.filter((e) => e !== 'ParallelTransformerLayerPipe' && e !== '<lambda>');
  return [...(layers ? [`${layers} transformer layers`] : []), ...others].join(' + ') || '—';
}

function shape(op: ComputeOp): string {
  if (op.kind === 'gemm') return `${op.m}×${op.n}×${op.k}`;
  if (op.kind === 'bmm') return `${op.batch}×(${op.m}×${op.n}×${op.k})`;
  return int(op.m);
}

function opTable(ops: Op[]): string {
  const rows = [['phase', 'op', 'kind', 'shape (m×n×k or elements)', 'FLOP', 'read', 'written']];
  const totals = new Map<string, { flops: number; read: number; write: number; comm: number }>();
  for (const op of ops) {
    const tot = totals.get(op.phase) ?? { flops: 0, read: 0, write: 0, comm: 0 };
    totals.set(op.phase, tot);
    if (op.type === 'comm') {
      tot.comm += op.bytes;
      rows.push([op.phase, op.name, `${op.kind} (${op.group})`, `message ${si(op.bytes, 'B')} ${op.dtype}`, '', '', '']);
      continue;
    }
    tot.flops += op.flops;
    tot.read += op.bytesRead;
    tot.write += op.bytesWritten;
    rows.push([op.phase, op.name, op.kind, shape(op), si(op.flops, 'FLOP'), si(op.bytesRead, 'B'), si(op.bytesWritten, 'B')]);
  }
  for (const [phase, t] of totals) {
    rows.push([phase, 'total', '', t.comm ? `TP all-reduce ${si(t.comm, 'B')}` : '', si(t.flops, 'FLOP'), si(t.read, 'B'), si(t.write, 'B')]);
  }
  return table(rows, [4, 5, 6]);
}
