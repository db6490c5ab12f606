import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { OVER_LIMIT_MARKER } from './sessionCost.js';

/** How often the watchdog reads the RSS: an allocation burst can overshoot the limit by what it takes in this time. */
const CHECK_INTERVAL_MS = 10;

/**
 * Plain JavaScript (no loader needed under tsx). onnxruntime creates a session synchronously on
 * the thread that asks, so only another thread can watch the process meanwhile; a worker's
 * `process.exit` ends only the worker, so it kills the whole process after saying why on stderr.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const shared = new Float64Array(workerData.shared);
setInterval(() => {
  const baseline = shared[0];
  if (baseline === 0) return;
  const grown = process.memoryUsage.rss() - baseline;
  if (grown > shared[1]) {
    writeSync(2, workerData.marker + Math.round(grown) + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, ${CHECK_INTERVAL_MS});
`;

/**
 * Kills this process (SIGKILL, with OVER_LIMIT_MARKER on stderr) once its RSS grows more than
 * `limitBytes` beyond the baseline given to `arm`. Started before the baseline is taken, so its own
 * thread is not counted in what it watches.
 */
export async function startMemoryWatchdog(limitBytes: number): Promise<{ arm(baselineBytes: number): void; stop(): Promise<number> }> {
  const shared = new Float64Array(new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT));
  shared[1] = limitBytes;
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { shared: shared.buffer, marker: OVER_LIMIT_MARKER } });
  await once(worker, 'online');
  return {
    arm: (baselineBytes) => { shared[0] = baselineBytes; },
    stop: () => worker.terminate(),
  };
}
