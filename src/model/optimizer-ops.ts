import { FLOPS_PER_ELEMENT, memoryOp, type ComputeOp } from './ops.js';

/**
 * One FusedAdam (AdamW mode) step over `params` fp32 master parameters, as DeeperSpeed's ZeRO-1 runs it on
 * each rank's own partition: reads the fp32 param, m, v and gradient (16 B/param), writes param, m, v
 * (12 B/param) and the fp16 copy that is all-gathered afterwards (2 B/param). How many parameters a rank
 * updates (its ZeRO partition) is the workload's decision.
 */
export function adamStepOp(params: number, name = 'optimizer.adam'): ComputeOp {
  return memoryOp(name, 'optimizer', 'step', 'fp32', params, FLOPS_PER_ELEMENT.adam * params, 16 * params, 14 * params);
}
