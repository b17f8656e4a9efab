import type { SearchProgress } from './search.js';

/**
 * Progress of a sweep on stderr (never stdout: --json output stays clean). On a terminal, a bar redrawn
 * in place once the sweep has run for a second; otherwise a plain line every few seconds, also only for
 * sweeps longer than a second.
 */
export function progressReporter(stream: NodeJS.WriteStream, now: () => number = () => performance.now()): { update(p: SearchProgress): void; done(): void } {
  const t0 = now();
  const tty = stream.isTTY === true;
  let last = -Infinity;
  let drawn = false;
  const line = (p: SearchProgress) => {
    const kth = Number.isFinite(p.kthSeconds) ? `, k-th best ${p.kthSeconds.toPrecision(4)} s` : '';
    return `plan: ${p.done}/${p.total} candidates by bound, ${p.simulated} simulated${kth}, ${((now() - t0) / 1000).toFixed(0)} s`;
  };
  return {
    update(p) {
      const t = now();
      if (t - t0 < 1000 || t - last < (tty ? 100 : 5000)) return;
      last = t;
      if (tty) {
        const width = 24;
        const filled = Math.round((width * p.done) / Math.max(1, p.total));
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(p)}\x1b[K`);
        drawn = true;
      } else stream.write(`${line(p)}\n`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
