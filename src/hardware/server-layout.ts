/**
 * What sits behind each PCIe switch of a server, and which HCA each GPU sends through. NCCL 2.10.3 (NeoX's
 * version) has no PXN, so a GPU uses the HCA on its own PCIe switch, else the nearest one: through its CPU
 * (PHB), else across the socket link (SYS) — the path kinds `nvidia-smi topo -m` prints.
 */
import { InputError } from '../common/errors.js';
import type { PcieSwitchSlot } from './profile-types.js';

export type GpuHcaPath = 'PIX' | 'PHB' | 'SYS';

export interface ServerLayout {
  gpusPerNode: number;
  hcasPerNode: number;
  sockets: number;
  switches: PcieSwitchSlot[];
  /** Local GPU index → its PCIe switch. */
  switchOfGpu: number[];
  /** Local HCA index → its PCIe switch. */
  switchOfHca: number[];
  /** Local GPU index → the local HCA it uses for inter-node traffic. */
  hcaOfGpu: number[];
  gpuHcaPath: GpuHcaPath[];
}

/**
 * Checks the server's PCIe switch table (`file`, `field` locate it for errors) and, when `nicsPerNode` is
 * given, re-places that many HCAs evenly over the switches: k ≥ #switches puts k/#switches on each, fewer
 * puts one on every (#switches/k)-th switch. `overrideWhere` names the override in errors.
 */
export function serverLayout(
  slots: PcieSwitchSlot[], file: string, field: string, nicsPerNode?: number, overrideWhere = file,
): ServerLayout {
  const gpusPerNode = checkIndices(slots.map((s) => s.gpus), file, `${field}/gpus`, 'GPU');
  const sockets = checkIndices(slots.map((s) => [s.socket]), file, `${field}/socket`, 'socket', true);
  let switches = slots.map((s) => ({ socket: s.socket, gpus: [...s.gpus], hcas: [...s.hcas] }));
  if (nicsPerNode !== undefined) switches = placeHcas(switches, nicsPerNode, overrideWhere);
  const hcasPerNode = checkIndices(switches.map((s) => s.hcas), file, `${field}/hcas`, 'HCA');
  if (hcasPerNode === 0) throw InputError.field(file, `${field}/hcas`, 'at least one HCA in the server', 'none');

  const switchOfGpu: number[] = [];
  const switchOfHca: number[] = [];
  switches.forEach((s, i) => {
    for (const g of s.gpus) switchOfGpu[g] = i;
    for (const h of s.hcas) switchOfHca[h] = i;
  });
  const hcaOfGpu: number[] = [];
  const gpuHcaPath: GpuHcaPath[] = [];
  switches.forEach((s, i) => {
    const near = nearestSwitchWithHca(switches, i);
    const hcas = switches[near.index]!.hcas;
    s.gpus.forEach((g, j) => {
      hcaOfGpu[g] = hcas[Math.floor((j * hcas.length) / s.gpus.length)]!;
      gpuHcaPath[g] = near.path;
    });
  });
  return { gpusPerNode, hcasPerNode, sockets, switches, switchOfGpu, switchOfHca, hcaOfGpu, gpuHcaPath };
}

/** The HCA counts per node a server's switch table allows (one HCA per GPU at most). */
export function validNicCounts(slots: PcieSwitchSlot[]): number[] {
  const n = slots.length;
  const perSwitch = Math.min(...slots.map((s) => s.gpus.length));
  const out: number[] = [];
  for (let k = 1; k <= n * perSwitch; k++) if (k < n ? n % k === 0 : k % n === 0) out.push(k);
  return out;
}

function placeHcas(switches: PcieSwitchSlot[], k: number, file: string): PcieSwitchSlot[] {
  const valid = validNicCounts(switches);
  if (!valid.includes(k)) {
    throw InputError.field(file, 'nicsPerNode', `one of ${valid.join(', ')} (HCAs spread evenly over ${switches.length} PCIe switches)`, k);
  }
  const n = switches.length;
  let next = 0;
  return switches.map((s, i) => {
    const count = k >= n ? k / n : i % (n / k) === 0 ? 1 : 0;
    return { ...s, hcas: Array.from({ length: count }, () => next++) };
  });
}

function nearestSwitchWithHca(switches: PcieSwitchSlot[], from: number): { index: number; path: GpuHcaPath } {
  if (switches[from]!.hcas.length > 0) return { index: from, path: 'PIX' };
  const byDistance = switches
    .map((s, index) => ({ index, s }))
    .filter(({ s }) => s.hcas.length > 0)
    .sort((a, b) => Number(a.s.socket !== switches[from]!.socket) - Number(b.s.socket !== switches[from]!.socket)
      || Math.abs(a.index - from) - Math.abs(b.index - from) || a.index - b.index);
  const best = byDistance[0]!;
  return { index: best.index, path: best.s.socket === switches[from]!.socket ? 'PHB' : 'SYS' };
}

/** Each index 0..n-1 must appear exactly once across the lists (or at least once, for sockets); returns n. */
function checkIndices(lists: number[][], file: string, field: string, what: string, repeats = false): number {
  const all = lists.flat();
  const n = all.length === 0 ? 0 : Math.max(...all) + 1;
  const counts = new Map<number, number>();
  for (const i of all) counts.set(i, (counts.get(i) ?? 0) + 1);
  let bad = -1;
  for (let i = 0; i < n && bad < 0; i++) if (!counts.has(i) || (!repeats && counts.get(i)! > 1)) bad = i;
  if (bad >= 0) {
    const form = repeats ? `${what} indices 0..${n - 1} each used` : `each ${what} index 0..${n - 1} on exactly one PCIe switch`;
    const c = counts.get(bad) ?? 0;
    throw InputError.field(file, field, form, `${what} ${bad} ${c === 0 ? 'missing' : `listed ${c} times`}`);
  }
  return n;
}
