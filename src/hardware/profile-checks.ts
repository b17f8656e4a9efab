/**
 * Checks a schema cannot express: a rate that exceeds the peak it is a fraction of, references to other
 * profiles, a server's PCIe switch table, a cluster that cannot be cabled. Used by `profiles validate`.
 */
import { InputError } from '../common/errors.js';
import { loadCluster } from './cluster.js';
import { type LoadedProfile, resolveRef } from './profiles.js';
import { serverLayout } from './server-layout.js';
import { toSI } from './units.js';

interface Pair {
  field: string;
  value: string;
}

/** Throws InputError for the first inconsistency in a schema-valid profile. */
export function checkProfile(p: LoadedProfile): void {
  switch (p.kind) {
    case 'gpu': {
      const g = (p as LoadedProfile<'gpu'>).data;
      atMost(p, { field: '/calibration/gemmMaxAchievable/value', value: g.calibration.gemmMaxAchievable.value }, { field: '/tensor/bf16', value: g.tensor.bf16.value }, 'flops');
      atMost(p, { field: '/calibration/nvlinkPayload/value', value: g.calibration.nvlinkPayload.value }, { field: '/nvlink/bandwidth', value: g.nvlink.bandwidth.value }, 'bandwidth');
      if (g.hbm.usable) atMost(p, { field: '/hbm/usable/value', value: g.hbm.usable.value }, { field: '/hbm/capacity', value: g.hbm.capacity.value }, 'bytes');
      return;
    }
    case 'nic': {
      const n = (p as LoadedProfile<'nic'>).data;
      atMost(p, { field: '/achievable/value', value: n.achievable.value }, { field: '/lineRate', value: n.lineRate.value }, 'bandwidth');
      return;
    }
    case 'ib-switch':
    case 'pcie-switch': {
      const s = (p as LoadedProfile<'ib-switch' | 'pcie-switch'>).data;
      atMost(p, { field: '/portPayload/value', value: s.portPayload.value }, { field: '/portRate', value: s.portRate.value }, 'bandwidth');
      return;
    }
    case 'cpu': {
      const c = (p as LoadedProfile<'cpu'>).data;
      if (c.threads.value < c.cores.value) throw InputError.field(p.display, '/threads/value', `at least the core count (${c.cores.value})`, c.threads.value);
      return;
    }
    case 'server': {
      const s = (p as LoadedProfile<'server'>).data;
      resolveRef(p, '/gpu', s.gpu, 'gpu');
      resolveRef(p, '/cpu', s.cpu, 'cpu');
      resolveRef(p, '/nic', s.nic, 'nic');
      resolveRef(p, '/pcieSwitch', s.pcieSwitch, 'pcie-switch');
      serverLayout(s.pcieSwitches.value, p.display, '/pcieSwitches/value');
      return;
    }
    case 'cluster':
      loadCluster(p.file);
      return;
    case 'nccl':
      return;
  }
}

function atMost(p: LoadedProfile, part: Pair, whole: Pair, dim: 'flops' | 'bandwidth' | 'bytes'): void {
  if (toSI(part.value, dim) > toSI(whole.value, dim)) {
    throw InputError.field(p.display, part.field, `at most ${whole.field} (${whole.value})`, part.value);
  }
}
