/** `neox-sim collective <op>`: an nccl-tests-like size sweep of one collective on a simulated cluster. */
import { parseArgs } from 'node:util';
import { InputError } from '../../common/errors.js';
import { loadCluster } from '../../hardware/cluster.js';
import { type Algorithm, DEFAULT_NCCL, loadNcclProfile, PROTOCOLS, type Protocol } from '../../hardware/nccl-profile.js';
import type { CollectiveOp } from '../../sim/collectives/collectives.js';
import { commLayout } from '../../sim/collectives/layout.js';
import { clusterNcclSystem } from '../../sim/collectives/nccl-system.js';
import { collectiveSweep, type SweepRow, sweepSizes } from '../../sim/collectives/sweep.js';

/** Most sizes one sweep may time (nccl-tests' default -f 2 from 8 B to 8 GiB gives 31). */
const MAX_ROWS = 4096;

const OPS: CollectiveOp[] = ['all-reduce', 'reduce-scatter', 'all-gather', 'broadcast', 'reduce', 'sendrecv'];

const HELP = `Usage: neox-sim collective <${OPS.join('|')}> [options]

Times one NCCL collective over a range of sizes on a simulated cluster, like nccl-tests: for each size the
time, algbw = size / time and busbw = algbw x factor (all-reduce 2(n-1)/n, reduce-scatter and all-gather
(n-1)/n, others 1), the algorithm and protocol NCCL 2.10.3's tuning model picks, its channel count and what
bounded the transfer (a link class, the protocol's ceiling, or latency). Sizes are whole buffers: for
reduce-scatter and all-gather, all ranks' parts together. sendrecv: every rank sends to the next one.

  --cluster C              cluster id or .json cluster profile (default supermicro12)
  --ranks LIST             GPUs in rank order: 0-95, 0,8,16, 0-7,16-23 (default: every GPU)
  --nodes N                with --gpus-per-node: the first G GPUs of each of the first N nodes
  --gpus-per-node G
  --min-bytes S            smallest size (default 8); K, M, G, T = 2^10, 2^20, 2^30, 2^40 as in nccl-tests
  --max-bytes S            largest size (default 8G)
  --step-factor F          size multiplier between rows (default 2)
  --step-bytes S           a fixed increment between rows instead (nccl-tests -i)
  --algo ring|tree|auto    force an algorithm (NCCL_ALGO); tree exists for all-reduce only (default auto)
  --proto ${PROTOCOLS.join('|')}|auto  force a protocol (NCCL_PROTO) (default auto)
  --root R                 root rank of broadcast and reduce (default 0)
  --trunk-links T          what-if: links between the two switches of a two-switch fabric
  --nics-per-node K        what-if: HCAs per server
  --nccl P                 NCCL profile id or .json file (default ${DEFAULT_NCCL})
  --json                   machine-readable output (SI units: bytes, seconds, bytes/s)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [opName, ...extra] = positionals;
  if (values.help || opName === undefined) {
    process.stdout.write(HELP);
    if (values.help) return 0;
    throw InputError.field('collective', '<op>', `one of ${OPS.join(', ')} (none given)`);
  }
  if (!OPS.includes(opName as CollectiveOp)) throw InputError.field('collective', '<op>', `one of ${OPS.join(', ')}`, opName);
  if (extra.length) throw InputError.field('collective', 'arguments', 'one collective', extra.join(' '));
  const op = opName as CollectiveOp;

  const algorithm = choice('--algo', values.algo!, ['ring', 'tree']) as Algorithm | undefined;
  if (algorithm === 'tree' && op !== 'all-reduce') throw InputError.field('--algo', '', `ring or auto for ${op} (NCCL 2.10.3 has trees for all-reduce only)`, 'tree');
  const protocol = choice('--proto', values.proto!, PROTOCOLS) as Protocol | undefined;
  const min = size('--min-bytes', values['min-bytes']!);
  const max = size('--max-bytes', values['max-bytes']!);
  if (max < min) throw InputError.field('--max-bytes', '', `a size of at least --min-bytes (${min})`, values['max-bytes']);
  if (values['step-factor'] !== undefined && values['step-bytes'] !== undefined) throw InputError.field('--step-bytes', '', 'either --step-factor or --step-bytes, not both', values['step-bytes']);
  const factor = Number(values['step-factor'] ?? 2);
  if (!(factor > 1) || !Number.isFinite(factor)) throw InputError.field('--step-factor', '', 'a number greater than 1', values['step-factor']);
  const step = values['step-bytes'] !== undefined ? { bytes: size('--step-bytes', values['step-bytes']) } : { factor };
  // Each row is a simulation of its own: a sweep of millions of sizes would never finish.
  const sizes = sweepSizes(min, max, step, MAX_ROWS + 1);
  if (sizes.length > MAX_ROWS) {
    const flag = values['step-bytes'] !== undefined ? '--step-bytes' : '--step-factor';
    throw InputError.field(flag, '', `a step giving at most ${MAX_ROWS} sizes from --min-bytes ${min} to --max-bytes ${max}`, values[flag.slice(2) as 'step-bytes' | 'step-factor'] ?? '2');
  }

  const cluster = loadCluster(values.cluster!, {
    trunkLinks: whole('--trunk-links', values['trunk-links']),
    nicsPerNode: whole('--nics-per-node', values['nics-per-node']),
  });
  const ranks = selectRanks(values.ranks, whole('--nodes', values.nodes), whole('--gpus-per-node', values['gpus-per-node']), cluster.nodes, cluster.gpusPerNode);
  const root = whole('--root', values.root, 0)!;
  if (root >= ranks.length) throw InputError.field('--root', '', `a rank index 0..${ranks.length - 1}`, values.root);
  if (op === 'sendrecv' && ranks.length < 2) throw InputError.field('--ranks', '', 'at least 2 GPUs for sendrecv', ranks.length);
  const nccl = loadNcclProfile(values.nccl!, 'collective', '--nccl');
  const layout = commLayout(cluster.topology, ranks);
  const rows = collectiveSweep({
    topology: cluster.topology, nccl, system: clusterNcclSystem(nccl, cluster), op, ranks,
    sizes, root, algorithm, protocol,
  });
  const avgBusbw = rows.reduce((s, r) => s + r.busbw, 0) / rows.length;
  const summary = { cluster: cluster.name, nccl: nccl.id, op, nRanks: layout.nRanks, nNodes: layout.nNodes, ranks };
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...summary, rows, avgBusbw })}\n`);
  } else {
    const perNode = [...new Set(layout.perNode.map((g) => g.length))].join('/');
    process.stdout.write(`# neox-sim collective ${op} on ${cluster.name}: ${layout.nRanks} ranks on ${layout.nNodes} node${layout.nNodes > 1 ? 's' : ''} (${perNode} per node), GPUs ${ranges(ranks)}\n`);
    process.stdout.write(`# algorithm and protocol chosen by the ${nccl.id} tuning model; times simulated on the cluster's links\n#\n`);
    process.stdout.write(table(rows));
    process.stdout.write(`# Avg bus bandwidth    : ${(avgBusbw / 1e9).toFixed(3)} GB/s\n`);
  }
  return 0;
}

/** The command's options; util.parseArgs' multi-line messages ("… is ambiguous.\nDid you …") become one line. */
function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        cluster: { type: 'string', default: 'supermicro12' },
        ranks: { type: 'string' },
        nodes: { type: 'string' },
        'gpus-per-node': { type: 'string' },
        'min-bytes': { type: 'string', default: '8' },
        'max-bytes': { type: 'string', default: '8G' },
        'step-factor': { type: 'string' },
        'step-bytes': { type: 'string' },
        algo: { type: 'string', default: 'auto' },
        proto: { type: 'string', default: 'auto' },
        root: { type: 'string', default: '0' },
        'trunk-links': { type: 'string' },
        'nics-per-node': { type: 'string' },
        nccl: { type: 'string', default: DEFAULT_NCCL },
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new InputError((err as Error).message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

function choice(flag: string, text: string, allowed: readonly string[]): string | undefined {
  if (text === 'auto') return undefined;
  if (!allowed.includes(text)) throw InputError.field(flag, '', `one of ${[...allowed, 'auto'].join(', ')}`, text);
  return text;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size in bytes: a whole number with an optional K/M/G/T (binary, as nccl-tests) and optional "B". */
function size(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const bytes = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw InputError.field(flag, '', 'a whole number of bytes of at least 1, such as 8, 64K, 128M or 8G', text);
  return bytes;
}

function whole(flag: string, text: string | undefined, least = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least) throw InputError.field(flag, '', `a whole number of at least ${least}`, text);
  return Number(text);
}

/** The communicator: --ranks, or --nodes × --gpus-per-node, or every GPU. */
function selectRanks(list: string | undefined, nodes: number | undefined, perNode: number | undefined, clusterNodes: number, gpusPerNode: number): number[] {
  const total = clusterNodes * gpusPerNode;
  if (list !== undefined) {
    if (nodes !== undefined || perNode !== undefined) throw InputError.field('--ranks', '', 'either --ranks or --nodes with --gpus-per-node, not both', list);
    const ranks = list.split(',').flatMap((part) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      if (!m) throw InputError.field('--ranks', '', 'GPU indices and ranges such as 0-95 or 0,8,16', list);
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (b < a) throw InputError.field('--ranks', '', 'ranges written low-high, such as 8-15', part);
      if (b >= total) throw InputError.field('--ranks', '', `GPU indices 0..${total - 1} (${clusterNodes} nodes x ${gpusPerNode} GPUs)`, b);
      return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
    const seen = new Set<number>();
    for (const g of ranks) {
      if (g >= total) throw InputError.field('--ranks', '', `GPU indices 0..${total - 1} (${clusterNodes} nodes x ${gpusPerNode} GPUs)`, g);
      if (seen.has(g)) throw InputError.field('--ranks', '', 'each GPU once', `GPU ${g} twice`);
      seen.add(g);
    }
    return ranks;
  }
  if ((nodes === undefined) !== (perNode === undefined)) throw InputError.field('--nodes', '', '--nodes and --gpus-per-node together');
  const n = nodes ?? clusterNodes;
  const g = perNode ?? gpusPerNode;
  if (n > clusterNodes) throw InputError.field('--nodes', '', `at most the cluster's ${clusterNodes} nodes`, n);
  if (g > gpusPerNode) throw InputError.field('--gpus-per-node', '', `at most the cluster's ${gpusPerNode} GPUs per node`, g);
  return Array.from({ length: n }, (_, node) => Array.from({ length: g }, (_, i) => node * gpusPerNode + i)).flat();
}

/** "0-7,16-23" for a list of GPU indices. */
function ranges(list: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
    out.push(j > i ? `${list[i]}-${list[j]}` : `${list[i]}`);
    i = j + 1;
  }
  const text = out.join(',');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function table(rows: SweepRow[]): string {
  const head = ['size', 'time', 'algbw', 'busbw', 'algo', 'proto', 'channels', 'bottleneck', 'nccl model'];
  const units = ['(B)', '(us)', '(GB/s)', '(GB/s)', '', '', '', '', '(us)'];
  const body = rows.map((r) => [
    String(r.bytes),
    (r.time * 1e6).toFixed(1),
    (r.algbw / 1e9).toFixed(2),
    (r.busbw / 1e9).toFixed(2),
    r.algorithm,
    r.protocol,
    String(r.channels),
    r.bottleneck,
    r.modelTime === null ? '-' : (r.modelTime * 1e6).toFixed(1),
  ]);
  const width = head.map((h, i) => Math.max(h.length, units[i]!.length, ...body.map((row) => row[i]!.length)));
  const left = new Set([4, 5, 7]);
  const fmt = (cells: string[], lead: string) => lead + cells.map((c, i) => (left.has(i) ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd() + '\n';
  return fmt(head, '# ') + fmt(units, '# ') + body.map((row) => fmt(row, '  ')).join('');
}
