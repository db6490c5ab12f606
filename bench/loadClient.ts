import { Agent, request } from 'node:http';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface LoadSpec {
  port: number;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  concurrency: number;
  seconds: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * A closed loop, whatever the protocol: `concurrency` loops, each sending the next request when the
 * last is answered (`send` resolves true for a success), for a fixed time after a short warm-up.
 */
export async function runClosedLoop(send: () => Promise<boolean>, concurrency: number, seconds: number): Promise<LoadResult> {
  const loop = async (until: number, latencies: number[] | null, errors: { n: number }) => {
    while (performance.now() < until) {
      const started = performance.now();
      if (!(await send())) errors.n += 1;
      latencies?.push(performance.now() - started);
    }
  };
  const warmUp = performance.now() + 500;
  await Promise.all(Array.from({ length: concurrency }, () => loop(warmUp, null, { n: 0 })));
  const latencies: number[] = [];
  const errors = { n: 0 };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => loop(started + seconds * 1000, latencies, errors)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), errors: errors.n };
}

/**
 * A closed-loop load client on node:http with keep-alive (Node's built-in fetch is too slow a
 * client here). 127.0.0.1 only; it stops by itself.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const once = () =>
    new Promise<boolean>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: spec.port, path: spec.path, method: 'POST', agent, headers: { ...spec.headers, 'content-length': spec.body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('error', () => resolve(false));
      req.end(spec.body);
    });
  try {
    return await runClosedLoop(once, spec.concurrency, spec.seconds);
  } finally {
    agent.destroy();
  }
}
