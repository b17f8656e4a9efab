/** Worker thread of `validatePublishedRuns`: simulates one run of a runs file and posts its prediction. */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../common/errors.js';
import { loadNcclProfile } from '../hardware/nccl-profile.js';
import { mapRun } from './map-run.js';
import { predictStep } from './predict.js';
import { loadPublishedRuns } from './runs-file.js';

const { file, id, nccl } = workerData as { file: string; id: string; nccl?: string };
try {
  const run = loadPublishedRuns(file).find((r) => r.id === id)!;
  const m = mapRun(run, file);
  if (!m.ok) throw new Error(`validate: run ${id} is not representable: ${m.reason}`);
  parentPort!.postMessage({ prediction: predictStep(m.mapped, loadNcclProfile(nccl)) });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message, input: e instanceof InputError });
}
