/** Worker-thread entry: evaluates plan jobs for the pool (pool.ts) with its own PlanEvaluator. */
import { parentPort, workerData } from 'node:worker_threads';
import { type EvalContext, type EvalJob, PlanEvaluator } from './evaluate.js';

const evaluator = new PlanEvaluator(workerData as EvalContext);
parentPort!.on('message', (msg: { id: number; job: EvalJob }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: evaluator.evaluate(msg.job) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e) } });
  }
});
