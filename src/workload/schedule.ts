import type { Plan } from './plan-types.js';

/**
 * Pipeline schedules: what one physical stage does, in order, for the micro-batches of one step.
 * `vstage` is the model chunk (0 … pp·v − 1); chunk c lives on stage c mod pp. A chunk receives its input
 * from chunk c − 1 and its output gradient from chunk c + 1.
 */
export type PipeOp = 'forward' | 'backward' | 'recv-act' | 'send-act' | 'recv-grad' | 'send-grad';

export interface PipeAction {
  op: PipeOp;
  vstage: number;
  mb: number;
}

export function stageSchedule(plan: Pick<Plan, 'pp' | 'gradAccumSteps' | 'schedule' | 'virtualStages'>, stage: number): PipeAction[] {
  switch (plan.schedule) {
    case '1f1b': return trainSchedule(plan.pp, plan.gradAccumSteps, stage);
    case 'gpipe': return gpipe(plan.pp, plan.gradAccumSteps, stage);
    case 'interleaved': return interleaved(plan.pp, plan.gradAccumSteps, plan.virtualStages, stage);
  }
}

/**
 * DeepSpeed's TrainSchedule (runtime/pipe/schedule.py, DeeperSpeed 0.3.15), command for command: 2(m + p − 1)
 * steps alternating forward and backward slots (even stages start with a forward slot, odd stages with a
 * backward slot); each slot first exchanges with the neighbours — a forward slot sends the previous slot's
 * input gradient upstream and receives this micro-batch's activation; a backward slot receives this
 * micro-batch's output gradient and sends the previous slot's activation downstream — then computes.
 * Sends are deferred to the next slot, which is what keeps synchronous broadcasts deadlock-free.
 */
function trainSchedule(pp: number, m: number, s: number): PipeAction[] {
  const out: PipeAction[] = [];
  const valid = (mb: number) => mb >= 0 && mb < m;
  const hasPrev = s > 0;
  const hasNext = s < pp - 1;
  let prev = -1;
  for (let step = 0; step < 2 * (m + pp - 1); step++) {
    const forward = step % 2 === s % 2;
    const base = Math.floor(step / 2);
    const mb = forward
      ? base - Math.floor(s / 2)
      : step % 2 === 0 ? base - pp + Math.floor((s + 1) / 2) : base - pp + 1 + Math.floor(s / 2);
    if (forward) {
      if (valid(prev) && hasPrev) out.push({ op: 'send-grad', vstage: s, mb: prev });
      if (valid(mb) && hasPrev) out.push({ op: 'recv-act', vstage: s, mb });
    } else {
      if (valid(mb) && hasNext) out.push({ op: 'recv-grad', vstage: s, mb });
      if (valid(prev) && hasNext) out.push({ op: 'send-act', vstage: s, mb: prev });
    }
    if (valid(mb)) out.push({ op: forward ? 'forward' : 'backward', vstage: s, mb });
    prev = mb;
  }
  return out;
}

/** A chunk's forward/backward with its receives before and its sends after (V = total chunks). */
function withP2p(out: PipeAction[], op: 'forward' | 'backward', vstage: number, mb: number, V: number): void {
  const up = vstage > 0;
  const down = vstage < V - 1;
  if (op === 'forward') {
    if (up) out.push({ op: 'recv-act', vstage, mb });
    out.push({ op, vstage, mb });
    if (down) out.push({ op: 'send-act', vstage, mb });
  } else {
    if (down) out.push({ op: 'recv-grad', vstage, mb });
    out.push({ op, vstage, mb });
    if (up) out.push({ op: 'send-grad', vstage, mb });
  }
}

/** GPipe (Huang et al. 2019): all forwards, then all backwards in reverse micro-batch order. */
function gpipe(pp: number, m: number, s: number): PipeAction[] {
  const out: PipeAction[] = [];
  for (let mb = 0; mb < m; mb++) withP2p(out, 'forward', s, mb, pp);
  for (let mb = m - 1; mb >= 0; mb--) withP2p(out, 'backward', s, mb, pp);
  return out;
}

/**
 * Megatron-LM's interleaved 1F1B (Narayanan et al. 2021; schedules.py
 * forward_backward_pipelining_with_interleaving): m·v virtual micro-batches; warm-up
 * (p − s − 1)·2 + (v − 1)·p forwards (all of them when m = p), then one forward and one backward
 * alternately, then the remaining backwards. Virtual micro-batch k runs chunk ⌊(k mod p·v) / p⌋ (backwards
 * count chunks from the last) on micro-batch ⌊k / p·v⌋·p + k mod p.
 */
function interleaved(pp: number, m: number, v: number, s: number): PipeAction[] {
  const total = m * v;
  const warmup = m === pp ? total : Math.min((pp - s - 1) * 2 + (v - 1) * pp, total);
  const chunk = (k: number, forward: boolean) => {
    const c = Math.floor((k % (pp * v)) / pp);
    return forward ? c : v - 1 - c;
  };
  const mbOf = (k: number) => Math.floor(k / (pp * v)) * pp + (k % pp);
  const out: PipeAction[] = [];
  const V = pp * v;
  const f = (k: number) => withP2p(out, 'forward', chunk(k, true) * pp + s, mbOf(k), V);
  const b = (k: number) => withP2p(out, 'backward', chunk(k, false) * pp + s, mbOf(k), V);
  for (let k = 0; k < warmup; k++) f(k);
  for (let k = 0; k < total - warmup; k++) {
    f(k + warmup);
    b(k);
  }
  for (let k = total - warmup; k < total; k++) b(k);
  return out;
}

/** Micro-batches whose forward has run but whose backward has not, at most, over the schedule. */
export function maxInFlight(actions: PipeAction[]): number {
  let live = 0;
  let max = 0;
  for (const a of actions) {
    if (a.op === 'forward') max = Math.max(max, ++live);
    else if (a.op === 'backward') live--;
  }
  return max;
}
