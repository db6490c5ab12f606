import { Agent, request } from 'node:http';
import type { CurvePoint } from './tuningProtocol.js';

export interface LoadTarget {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Request bodies, sent in turn. */
  bodies: Buffer[];
}

/** The tuning server's warm-up before each level is measured: new connections, JIT, the batcher's first sizes. */
const WARM_UP_MS = 300;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * One level of a closed-loop load over loopback HTTP (perf_analyzer's mode): `concurrency`
 * clients, each sending its next request when the last is answered, for `seconds` after a short
 * warm-up. Closed-loop throughput at a concurrency is what a pool of that many callers gets; its
 * p95 is what each of them waits. A request that fails counts as an error, not as a latency.
 */
export async function closedLoopLevel(target: LoadTarget, concurrency: number, seconds: number): Promise<CurvePoint> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const once = () =>
    new Promise<boolean>((resolve) => {
      const body = target.bodies[next++ % target.bodies.length]!;
      const req = request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { ...target.headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('error', () => resolve(false));
      req.end(body);
    });
  const latencies: number[] = [];
  let errors = 0;
  const loop = async (until: number, measured: boolean) => {
    while (performance.now() < until) {
      const started = performance.now();
      const ok = await once();
      if (!measured) continue;
      if (ok) latencies.push(performance.now() - started);
      else errors += 1;
    }
  };
  try {
    const warmUntil = performance.now() + WARM_UP_MS;
    await Promise.all(Array.from({ length: concurrency }, () => loop(warmUntil, false)));
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, () => loop(started + seconds * 1000, true)));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { concurrency, rps: latencies.length / elapsed, p50_ms: percentile(latencies, 0.5), p95_ms: percentile(latencies, 0.95), errors };
  } finally {
    agent.destroy();
  }
}

/** A curve stops once doubling the concurrency adds less than this share of throughput twice in a row. */
const SATURATED_GAIN = 0.05;

export interface CurveOptions {
  concurrencies: number[];
  levelSeconds: number;
  /** A level whose p95 is over this ends the curve: higher concurrency only waits longer (null: no such stop). */
  stopAboveP95Ms: number | null;
  /** No level starts that would end after this epoch ms. */
  deadline: number;
}

/**
 * A latency/throughput curve (perf_analyzer's concurrency sweep): levels in order until the p95
 * passes the stop line, throughput stops growing, or the time is up. The tuner measures each
 * candidate with it, and bench:tune the appliance before and after tuning.
 */
export async function closedLoopCurve(target: LoadTarget, options: CurveOptions): Promise<CurvePoint[]> {
  const curve: CurvePoint[] = [];
  let flat = 0;
  for (const concurrency of options.concurrencies) {
    if (Date.now() + options.levelSeconds * 1000 > options.deadline) break;
    const point = await closedLoopLevel(target, concurrency, options.levelSeconds);
    const previous = curve.at(-1);
    curve.push(point);
    if (options.stopAboveP95Ms !== null && point.p95_ms > options.stopAboveP95Ms) break;
    flat = previous && point.rps < previous.rps * (1 + SATURATED_GAIN) ? flat + 1 : 0;
    if (flat >= 2) break;
  }
  return curve;
}
