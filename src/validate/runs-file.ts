import { InputError } from '../common/errors.js';
import { MAX_LAYERS } from '../model/neox-args.js';
import { readJsonFile } from '../hardware/json-source.js';

/**
 * The published-runs file (validation/published-runs.json): training runs as their papers report them —
 * model shape, hardware, parallel plan, batch, recompute, precision and the measured throughput, each with
 * its source. These runs are for validation only: no constant of the simulator is fitted to them.
 * `loadPublishedRuns` reads the fields neox-sim needs and rejects a run that lacks one, naming the run and
 * the field; everything else in the file (sources, notes) is kept as it is.
 */
export interface PublishedRun {
  id: string;
  model: { name: string; layers: number; hidden: number; heads: number; kvHeads: number; ffnHidden: number; vocab: number; seqLength: number };
  hardware: {
    gpu: string; numGpus: number; gpusPerNode: number; numNodes: number; nicsPerNode: number; nicGbps: number;
    /** intra_node, inter_node and cluster descriptions, joined (what identifies the machine). */
    description: string;
  };
  framework: string;
  parallelism: { tp: number; pp: number; dp: number; vp: number | null; cp: number; sp: boolean; ep: number | null; zeroStage: number; fsdp: boolean };
  batch: { microBatch: number; globalBatch: number; gradAccum: number | null };
  recompute: string;
  precision: string;
  flashAttention: string;
  reported: {
    tflopsPerGpu: number | null;
    tflopsBasis: string;
    /** Seconds per iteration, the way the source gives it (see `publishedSeconds`). */
    secPerIter: number | null;
    totalHours: number | null;
    trainSteps: number | null;
  };
  derivedSecPerIter: number | null;
  citation: string;
  notes: string;
}

export function loadPublishedRuns(path: string): PublishedRun[] {
  const data = readJsonFile(path, path);
  if (!Array.isArray(data)) throw InputError.field(path, '(top level)', 'an array of runs', typeof data === 'object' ? 'an object' : data);
  const seen = new Set<string>();
  return data.map((raw, i) => {
    const run = readRun(raw, path, i);
    if (seen.has(run.id)) throw InputError.field(path, `runs[${i}]: id`, 'a unique run id', run.id);
    seen.add(run.id);
    return run;
  });
}

/** Reads fields of one run; errors name the file, the run id (or its index) and the dotted field. */
class Fields {
  constructor(private readonly obj: unknown, private readonly file: string, private readonly where: string) {}

  private raw(path: string): unknown {
    let v: unknown = this.obj;
    for (const k of path.split('.')) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    return v;
  }

  private fail(path: string, expected: string, got: unknown): never {
    const e = InputError.field(this.file, `${this.where}: ${path}`, expected, got);
    throw got === undefined ? new InputError(`${e.message}, but it is missing`) : e;
  }

  int(path: string, least = 1, most = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(path);
    if (!Number.isSafeInteger(v) || (v as number) < least || (v as number) > most) {
      const range = most === Number.MAX_SAFE_INTEGER ? '' : ` at most ${most.toLocaleString('en-US')}`;
      this.fail(path, `${least === 1 ? 'a positive integer' : `an integer ≥ ${least}`}${range}`, v);
    }
    return v as number;
  }

  intOrNull(path: string, least = 1): number | null {
    const v = this.raw(path);
    return v === null || v === undefined ? null : this.int(path, least);
  }

  number(path: string): number {
    const v = this.raw(path);
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) this.fail(path, 'a positive number', v);
    return v as number;
  }

  numberOrNull(path: string): number | null {
    const v = this.raw(path);
    return v === null || v === undefined ? null : this.number(path);
  }

  string(path: string): string {
    const v = this.raw(path);
    if (typeof v !== 'string' || v.trim() === '') this.fail(path, 'a non-empty string', v);
    return v as string;
  }

  optString(path: string): string {
    const v = this.raw(path);
    return typeof v === 'string' ? v : '';
  }

  bool(path: string, fallback: boolean): boolean {
    const v = this.raw(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(path, 'true or false', v);
    return v as boolean;
  }
}

function readRun(raw: unknown, file: string, index: number): PublishedRun {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw InputError.field(file, `runs[${index}]`, 'an object', raw);
  const idValue = (raw as Record<string, unknown>).id;
  const id = typeof idValue === 'string' && idValue.trim() !== '' ? idValue : undefined;
  const f = new Fields(raw, file, id ?? `runs[${index}]`);
  if (id === undefined) f.string('id');
  const heads = f.int('model.heads');
  const r: PublishedRun = {
    id: id!,
    model: {
      name: f.optString('model.name') || id!,
      layers: f.int('model.layers', 1, MAX_LAYERS), hidden: f.int('model.hidden'), heads, kvHeads: f.intOrNull('model.kv_heads') ?? heads,
      ffnHidden: f.int('model.ffn_hidden'), vocab: f.int('model.vocab'), seqLength: f.int('model.seq_len'),
    },
    hardware: {
      gpu: f.string('hardware.gpu'), numGpus: f.int('hardware.num_gpus'), gpusPerNode: f.int('hardware.gpus_per_node'),
      numNodes: f.int('hardware.num_nodes'), nicsPerNode: f.int('hardware.nics_per_node'), nicGbps: f.number('hardware.nic_gbps'),
      description: ['hardware.intra_node', 'hardware.inter_node', 'hardware.cluster'].map((k) => f.optString(k)).join('; '),
    },
    framework: f.string('software.framework'),
    parallelism: {
      tp: f.int('parallelism.tp'), pp: f.int('parallelism.pp'), dp: f.int('parallelism.dp'), vp: f.intOrNull('parallelism.vp'),
      cp: f.intOrNull('parallelism.cp') ?? 1, sp: f.bool('parallelism.sp', false), ep: f.intOrNull('parallelism.ep'),
      zeroStage: f.int('parallelism.zero_stage', 0), fsdp: f.bool('parallelism.fsdp', false),
    },
    batch: { microBatch: f.int('batch.micro_batch'), globalBatch: f.int('batch.global_batch_seqs'), gradAccum: f.intOrNull('batch.grad_accum') },
    recompute: f.string('recompute'),
    precision: f.string('precision'),
    flashAttention: f.optString('flash_attention'),
    reported: {
      tflopsPerGpu: f.numberOrNull('reported.tflops_per_gpu'),
      tflopsBasis: f.optString('reported.tflops_basis'),
      secPerIter: f.numberOrNull('reported.sec_per_iter'),
      totalHours: f.numberOrNull('reported.total_hours'),
      trainSteps: f.intOrNull('reported.train_steps'),
    },
    derivedSecPerIter: f.numberOrNull('derived.sec_per_iter'),
    citation: f.string('source.citation'),
    notes: [f.optString('parallelism.notes'), f.optString('notes')].filter(Boolean).join(' '),
  };
  const { reported: p } = r;
  if (p.secPerIter === null && r.derivedSecPerIter === null && (p.totalHours === null || p.trainSteps === null)) {
    throw new InputError(`${file}: ${id}: reported.sec_per_iter: expected seconds per iteration (or derived.sec_per_iter, or reported.total_hours with reported.train_steps), but none is given`);
  }
  if (r.hardware.numNodes * r.hardware.gpusPerNode !== r.hardware.numGpus) {
    throw InputError.field(file, `${id}: hardware.num_gpus`, `num_nodes × gpus_per_node (${r.hardware.numNodes} × ${r.hardware.gpusPerNode})`, r.hardware.numGpus);
  }
  return r;
}

/**
 * The published time of one iteration: the source's own seconds per iteration if it gives them; else the
 * file's derivation from the reported TFLOP/s with the source's formula (`derived.sec_per_iter`); else the
 * whole run's wall-clock hours over its steps (GPT-NeoX-20B: 1,830 h / 150,000 steps = 43.92 s).
 */
export function publishedSeconds(run: PublishedRun): { seconds: number; basis: string } {
  const p = run.reported;
  if (p.secPerIter !== null) return { seconds: p.secPerIter, basis: 'reported seconds per iteration' };
  if (run.derivedSecPerIter !== null) return { seconds: run.derivedSecPerIter, basis: "derived from the reported TFLOP/s per GPU with the source's own FLOP formula" };
  const n = (x: number) => x.toLocaleString('en-US');
  return { seconds: (p.totalHours! * 3600) / p.trainSteps!, basis: `${n(p.totalHours!)} h over ${n(p.trainSteps!)} steps (wall clock, all overheads included)` };
}
