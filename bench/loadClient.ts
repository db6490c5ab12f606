import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /**
   * CPU time (user + system, all threads) this process spent per completed request over the
   * measured window: the load client's own cost, which shares the cores with the server here.
   */
  clientCpuUsPerRequest: number;
  /**
   * The server process's CPU time (user + system, all its threads, workers included) per completed
   * request over the measured window, from /proc (Linux; null without a serverPid or /proc), in
   * steps of 10 ms of CPU over the window.
   */
  serverCpuUsPerRequest: number | null;
}

export interface LoadSpec {
  port: number;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  concurrency: number;
  seconds: number;
  /**
   * HTTPS, trusting only this certificate (PEM): the appliance's self-signed one, pinned the way a
   * LAN client pins it (`tls.crt` in its data dir). The name checked is 127.0.0.1, which it covers.
   */
  tlsCa?: string | Buffer;
  /** The server's process id, for serverCpuUsPerRequest. */
  serverPid?: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** utime + stime of a process in µs (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms), or null. */
function processCpuUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/**
 * A closed loop, whatever the protocol: `concurrency` loops, each sending the next request when the
 * last is answered (`send` resolves true for a success), for a fixed time after a short warm-up.
 */
export async function runClosedLoop(send: () => Promise<boolean>, concurrency: number, seconds: number, serverPid?: number): Promise<LoadResult> {
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
  const serverBefore = processCpuUs(serverPid);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => loop(started + seconds * 1000, latencies, errors)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = processCpuUs(serverPid);
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors: errors.n,
    clientCpuUsPerRequest: latencies.length > 0 ? (cpu.user + cpu.system) / latencies.length : 0,
    serverCpuUsPerRequest: serverBefore !== null && serverAfter !== null && latencies.length > 0 ? (serverAfter - serverBefore) / latencies.length : null,
  };
}

/**
 * A closed-loop load client on node:http (or node:https) with keep-alive (Node's built-in fetch is
 * too slow a client here). 127.0.0.1 only; it stops by itself.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const https = spec.tlsCa !== undefined;
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: spec.concurrency, ca: spec.tlsCa })
    : new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const send = https ? httpsRequest : request;
  const once = () =>
    new Promise<boolean>((resolve) => {
      const req = send(
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
    return await runClosedLoop(once, spec.concurrency, spec.seconds, spec.serverPid);
  } finally {
    agent.destroy();
  }
}
