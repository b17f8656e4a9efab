/** `neox-sim cluster show <name|file>`: what a cluster is made of and its capacity, explained. */
import { parseArgs } from 'node:util';
import { InputError } from '../../common/errors.js';
import { type Cluster, type ClusterOverrides, GPU_ALIASES, loadCluster } from '../../hardware/cluster.js';
import { type ClusterMetrics, type Rate, clusterMetrics } from '../../hardware/metrics.js';
import { shippedIds } from '../../hardware/profiles.js';

const HELP = `Usage: neox-sim cluster show <cluster> [options]

Shows a cluster's devices and links, per-node injection and bisection bandwidth, switch oversubscription,
NVLink and PCIe figures and which HCA each GPU uses. <cluster> is a shipped cluster id or a cluster profile
(.json). Overrides answer what-if questions:

  --nodes N            number of servers
  --gpu G              ${Object.keys(GPU_ALIASES).join(' | ')} | a GPU profile id or .json file
  --nics-per-node K    HCAs per server, spread evenly over its PCIe switches (e.g. 1, 2, 4, 8)
  --trunk-links T      links between the two switches of a two-switch fabric
  --json               machine-readable output (SI units: bytes, bytes/s, s)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      nodes: { type: 'string' },
      gpu: { type: 'string' },
      'nics-per-node': { type: 'string' },
      'trunk-links': { type: 'string' },
    },
  });
  const [sub, name, ...rest] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(HELP);
    if (values.help) return 0;
    throw InputError.field('cluster', 'subcommand', 'show (none given)');
  }
  if (sub !== 'show') throw new InputError(`cluster: unknown subcommand "${sub}"; expected: show`);
  if (!name) throw InputError.field('cluster show', '<cluster>', `a cluster id (${shippedIds('cluster').join(', ')}) or a .json cluster profile`);
  if (rest.length) throw InputError.field('cluster show', 'arguments', 'one cluster', rest.join(' '));
  const overrides: ClusterOverrides = {
    nodes: whole('--nodes', values.nodes),
    gpu: values.gpu,
    nicsPerNode: whole('--nics-per-node', values['nics-per-node']),
    trunkLinks: whole('--trunk-links', values['trunk-links']),
  };
  const cluster = loadCluster(name, overrides);
  const metrics = clusterMetrics(cluster);
  process.stdout.write(values.json ? `${JSON.stringify(toJson(cluster, metrics), null, 2)}\n` : report(cluster, metrics));
  return 0;
}

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) throw InputError.field(flag, '', 'a whole number of at least 1', text);
  return Number(text);
}

const gb = (bytesPerSecond: number) => `${+(bytesPerSecond / 1e9).toPrecision(4)} GB/s`;
const rate = (r: Rate) => (r.line === r.payload ? gb(r.line) : `${gb(r.line)} line, ${gb(r.payload)} payload`);
const bytes = (b: number) => (b >= 2 ** 30 ? `${+(b / 2 ** 30).toPrecision(4)} GiB` : `${+(b / 2 ** 20).toPrecision(4)} MiB`);
const tflops = (f: number | undefined) => (f === undefined ? '-' : `${+(f / 1e12).toPrecision(4)}`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function report(c: Cluster, m: ClusterMetrics): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const g = c.gpu;
  line(`Cluster ${c.name}: ${c.description}`);
  line(`  ${c.nodes} nodes x ${c.gpusPerNode} GPUs = ${c.gpuCount} GPUs: ${g.name}`);
  line(`  ${c.nodes} nodes x ${c.hcasPerNode} HCAs = ${c.hcaCount} HCAs: ${c.nic.name}`);
  line(`  server ${c.server.id}: ${c.layout.sockets} x ${c.cpu.name}, ${c.server.nvswitchChips} NVSwitch chips, ${c.layout.switches.length} PCIe switches`);
  if (c.overrides.gpu) line(`  (GPU override: NVLink and PCIe figures follow the ${g.id} profile; the server's switches, CPUs and HCAs stay)`);
  line();
  line('Devices and links (links are directed: every cable counts once per direction)');
  const devs = Object.entries(m.devices).map(([k, v]) => `${k} ${v}`).join(', ');
  const links = Object.entries(m.links).map(([k, v]) => `${k} ${v}`).join(', ');
  line(`  devices: ${devs}`);
  line(`  links:   ${links}`);
  line('  (the nvswitch device of a node stands for its NVSwitch chips together: one non-blocking crossbar)');
  line();
  line('Inside a node (per direction)');
  line(`  NVLink per GPU: ${m.nvlinkPerGpu.links} links, ${rate(m.nvlinkPerGpu)}, to any other GPU of the node through the NVSwitch fabric`);
  line(`  PCIe GPU <-> PCIe switch: ${rate(m.pciePerGpu)};  HCA <-> PCIe switch: ${rate(m.pciePerHca)}`);
  line(`  socket link (xGMI): ${c.server.xgmiLinks} links, ${gb(c.server.xgmiBandwidth)}`);
  line('  GPU -> HCA (NCCL 2.10.3 has no PXN: a GPU uses the HCA on its own PCIe switch, else the nearest one)');
  line('    GPU  PCIe switch  socket  HCA  IB switch          path');
  for (const r of m.gpuToHca) {
    line(`    ${String(r.gpu).padEnd(4)} ${String(r.pcieSwitch).padEnd(12)} ${String(r.socket).padEnd(7)} ${String(r.hca).padEnd(4)} ${r.ibSwitch.padEnd(18)} ${r.path}`);
  }
  line(`    => up to ${m.gpusPerHca} GPUs share one HCA (PIX: same PCIe switch, PHB: through the CPU, SYS: across sockets)`);
  line();
  const f = c.fabric;
  const plural = (k: string, v: number) => (v === 1 ? k : k === 'leaf' ? 'leaves' : k === 'switch' ? 'switches' : `${k}s`);
  const levels = Object.entries(f.switchesByLevel).map(([k, v]) => `${v} ${plural(k, v)}`).join(', ');
  const shape = f.type === 'two-switch' ? `two switches joined by ${f.trunkLinks} trunk links` : `${f.levels}-level rail-optimised fat tree: ${levels}`;
  line(`Fabric: ${shape} (${c.ibSwitch.id}: ${c.ibSwitch.ports} ports x ${gb(c.ibSwitch.portRate)})`);
  line(`  injection per node: ${c.hcasPerNode} HCAs x ${gb(m.injectionPerNode.line / c.hcasPerNode)} = ${rate(m.injectionPerNode)}`);
  const half = Math.floor(c.nodes / 2);
  if (half > 0) {
    const full = Math.abs(m.bisection.line - m.fullBisection.line) < 1 ? 'full bisection' : `${pct(m.bisection.line / m.fullBisection.line)} of full bisection`;
    line(`  bisection: ${rate(m.bisection)} (${full}; half the nodes inject ${gb(m.fullBisection.line)})`);
    line(`    = the maximum flow from the HCAs of nodes 0-${half - 1} to those of nodes ${half}-${c.nodes - 1} over the fabric links`);
  } else {
    line('  bisection: none (a single node)');
  }
  if (m.trunk) {
    const ports = m.trunk.hcaPortsPerSwitch;
    line(`  trunk: ${m.trunk.links} links x ${gb(m.trunk.line / m.trunk.links)} = ${rate(m.trunk)} between the switches`);
    line(`    vs ${ports} HCA ports x ${gb(m.injectionPerNode.line / c.hcasPerNode)} = ${gb((ports * m.injectionPerNode.line) / c.hcasPerNode)} on each switch`);
    line(`    => ${m.oversubscription.toFixed(2)}:1 oversubscribed for traffic that crosses switches (a GPU whose HCA is on one switch`);
    line('       sending to a GPU whose HCA is on the other); traffic between HCAs on one switch never uses the trunk');
  } else {
    line(`  oversubscription (HCA-facing : switch-facing port capacity, worst switch): ${m.oversubscription.toFixed(2)}:1${m.oversubscription <= 1 ? ' (non-blocking)' : ''}`);
  }
  line(`  routing: ${f.routing}`);
  line();
  line(`GPU: ${g.name}`);
  const t = g.tensorFlops;
  line(`  dense tensor peak (TFLOP/s): fp16 ${tflops(t.fp16)}, bf16 ${tflops(t.bf16)}, tf32 ${tflops(t.tf32)}, fp8 ${tflops(t.fp8)}, fp64 ${tflops(t.fp64)}; vector fp32 ${tflops(g.vectorFlops.fp32)}, fp64 ${tflops(g.vectorFlops.fp64)}`);
  line(`  HBM: ${bytes(g.hbmBytes)}${g.hbmUsableBytes !== g.hbmBytes ? ` (${bytes(g.hbmUsableBytes)} reported by CUDA)` : ''}, ${gb(g.hbmBandwidth)}; streaming kernels reach ${pct(g.calibration.hbmEfficiency)}`);
  line(`  ${g.smCount} SMs, ${bytes(g.l2Bytes)} L2, ${g.boostClockHz / 1e9} GHz boost`);
  line(`  GEMM: best measured ${tflops(g.calibration.gemmMaxAchievableFlops)} TFLOP/s = ${pct(g.calibration.gemmEfficiency)} of bf16 peak; tiles ${g.calibration.gemmTiles.map((x) => `${x.m}x${x.n}`).join(', ')}`);
  line();
  line('Sources of the figures above');
  for (const key of SOURCE_KEYS) if (c.sources[key]) line(`  ${key}: ${c.sources[key]}`);
  line('  (every value and its source: hardware-profiles/; --json lists them all)');
  return `${out.join('\n')}\n`;
}

const SOURCE_KEYS = [
  'cluster.nodes', 'cluster.fabric', 'cluster.fabric.trunkLinks', 'server.pcieSwitches', 'nic.lineRate', 'nic.achievable',
  'ibSwitch.ports', 'gpu.nvlink.bandwidth', 'gpu.calibration.nvlinkPayload', 'pcieSwitch.portPayload',
];

function toJson(c: Cluster, m: ClusterMetrics) {
  const { sources: gpuSources, ...gpu } = c.gpu;
  return {
    name: c.name,
    profile: c.profileId,
    description: c.description,
    overrides: c.overrides,
    nodes: c.nodes,
    gpusPerNode: c.gpusPerNode,
    hcasPerNode: c.hcasPerNode,
    gpuCount: c.gpuCount,
    hcaCount: c.hcaCount,
    gpu,
    server: { ...c.server, sources: undefined },
    fabric: c.fabric,
    metrics: m,
    sources: { ...c.sources, ...Object.fromEntries(Object.entries(gpuSources).map(([k, v]) => [`gpu.${k}`, v])) },
  };
}
