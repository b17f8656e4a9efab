import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NumpyResult {
  /** The OpenBLAS kernel family numpy uses here (OPENBLAS_VERBOSE=2), e.g. "SkylakeX" or "Haswell". */
  core: string;
  [key: string]: unknown;
}

/**
 * Runs a numpy baseline script (bench/baselines/<script>) in a child python3 with OPENBLAS_NUM_THREADS set
 * and, as the issue asks, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from that child's environment
 * only (`coretype` forces a kernel family instead, for the explicitly labelled comparison). Returns the
 * script's JSON, or null when python3 or numpy is missing.
 */
export function runNumpy(script: string, args: string[], threads: number, coretype?: string): NumpyResult | null {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OPENBLAS_VERBOSE: "2" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  const path = fileURLToPath(new URL(`../baselines/${script}`, import.meta.url));
  const r = spawnSync('python3', [path, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return null;
  const core = /Core:\s*(\S+)/.exec(r.stderr)?.[1] ?? 'unknown';
  return { ...JSON.parse(r.stdout), core };
}
