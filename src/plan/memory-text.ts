import type { Plan } from '../workload/plan-types.js';
import type { MemoryVerdict } from './evaluate.js';
import type { MemoryBound } from './quick-bounds.js';

/** Why a plan does not fit, in one line: how much it needs against what the GPU has, and what takes it. */

export const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

const RECOMPUTE_WORDS = { none: 'without recompute', selective: 'with selective recompute', full: 'with full recompute' } as const;

export function quickMemoryText(plan: Plan, m: MemoryBound, capacity: number): string {
  const head = `needs ≥ ${gb(m.bytes)} > ${gb(capacity)} on stage ${m.stage}`;
  const runtime = m.runtimeBytes > 0 ? ` + runtime reserve ${gb(m.runtimeBytes)}` : '';
  if (m.inFlight > 0) {
    return `${head}: model states ${gb(m.modelStateBytes)} + activations ${gb(m.activationBytes)}${runtime} ` +
      `(${m.inFlight} micro-batch${m.inFlight > 1 ? 'es' : ''} in flight at mbs ${plan.microBatch} ${RECOMPUTE_WORDS[plan.recompute]})`;
  }
  return `${head} at the optimizer step: model states and fp16 gradients ${gb(m.modelStateBytes)}` +
    (m.activationBytes > 0 ? ` + ZeRO staging buffer ${gb(m.activationBytes)}` : '') + `${runtime} (ZeRO ${plan.zeroStage})`;
}

const MODEL_STATES = ['fp16-params', 'fp16-grads', 'fp32-grads', 'fp32-master', 'adam-m', 'adam-v'];

/** The graph's memory floor exceeded the GPU: the floor and its largest parts. */
export function memoryVerdictText(m: MemoryVerdict): string {
  return `needs ≥ ${gb(m.bytes)} > ${gb(m.capacityBytes)} on stage ${m.stage} (task-graph floor): ${parts(m.byCategory)}`;
}

/** The simulated peak exceeded the GPU: the stage, the peak and its largest parts. */
export function simulatedMemoryText(m: MemoryVerdict): string {
  return `peaks at ${gb(m.bytes)} > ${gb(m.capacityBytes)} on stage ${m.stage} (simulated): ${parts(m.byCategory)}`;
}

/** Model states, the runtime reserve (always named: it is what tensor-only estimates leave out), and the three largest other parts. */
function parts(byCategory: Record<string, number>): string {
  let states = 0;
  const rest: [string, number][] = [];
  for (const [c, b] of Object.entries(byCategory)) {
    if (MODEL_STATES.includes(c)) states += b;
    else if (c !== 'runtime' && b > 0) rest.push([c, b]);
  }
  rest.sort((a, b) => b[1] - a[1]);
  const runtime = byCategory.runtime ? [`runtime reserve ${gb(byCategory.runtime)}`] : [];
  return [`model states ${gb(states)}`, ...runtime, ...rest.slice(0, 3).map(([c, b]) => `${c.replace(/-/g, ' ')} ${gb(b)}`)].join(' + ');
}
