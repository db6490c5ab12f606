/**
 * Failed-authentication flood benchmark (issue 8): the p50 latency of valid inference requests on
 * the bundled mlp alone, then while a bad-key flood runs from (a) one other loopback address,
 * which the per-address throttle blocks within a few dozen requests, and (b) many addresses
 * (127.0.0.10 … 127.0.0.254; Linux routes all of 127/8 to lo), where each address gets its own
 * few failures before it is blocked. The valid client is 127.0.0.1; the flood runs in its own
 * process. Default flood rate: BENCH_FLOOD_RPS (2000/s; 0 = as fast as the flood client can).
 * Run with `npm run bench:auth` (builds first). The last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from './loadClient.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * One valid request at a time by default: a latency measurement on a server that is not saturated.
 * At higher concurrency the valid traffic alone fills the HTTP thread, and any extra request, good or
 * bad, lengthens the queue: that measures capacity, not what bad keys cost.
 */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const FLOOD_RPS = Number(process.env.BENCH_FLOOD_RPS ?? 2000);
const TARGET_RATIO = 1.2;
const ROOT = new URL('..', import.meta.url).pathname;

async function startAppliance(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/server/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--tls', 'off', '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, INFERBOX_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    output += chunk as string;
    const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`the appliance exited before it was ready: ${output}`);
}

/** Runs the flood child for `seconds`; resolves with its summary line. */
function flood(port: number, first: string, count: number, seconds: number): { done: Promise<{ sent: number; rps: number; statuses: Record<string, number> }>; child: ChildProcess } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/servers/badKeyFlood.ts'), String(port), first, String(count), String(FLOOD_RPS), String(seconds)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const done = (async () => {
    let output = '';
    for await (const chunk of child.stdout!) output += String(chunk);
    return JSON.parse(output) as { sent: number; rps: number; statuses: Record<string, number> };
  })();
  return { done, child };
}

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-bench-auth-'));
const children: ChildProcess[] = [];
const round = (n: number) => Number(n.toFixed(3));
try {
  const appliance = await startAppliance(dataDir);
  children.push(appliance.child);
  const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
  const created = await fetch(`http://127.0.0.1:${appliance.port}/api/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', scopes: ['infer'] }) });
  const { key } = (await created.json()) as { key: string };
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [47.5, 15, 217, 5076] }] }));
  const valid = (): Promise<LoadResult> => runLoad({ port: appliance.port, path: '/v2/models/mlp/infer', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body, concurrency: CONCURRENCY, seconds: SECONDS });

  await valid(); // warm-up: first sessions, JIT
  const baseline = await valid();
  console.log(`baseline            valid p50 ${baseline.p50Ms.toFixed(3)} ms, ${Math.round(baseline.rps)} rps, errors ${baseline.errors}`);
  const scenarios: Record<string, unknown>[] = [];
  for (const [name, first, count] of [['one_address', '127.0.0.2', 1], ['spread_245_addresses', '127.0.0.10', 245]] as const) {
    const run = flood(appliance.port, first, count, SECONDS + 1.5);
    children.push(run.child);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the flood is under way (and the blocks in place) before measuring
    const under = await valid();
    const summary = await run.done;
    const scenario = { scenario: name, p50_ms: round(under.p50Ms), ratio: round(under.p50Ms / baseline.p50Ms), valid_rps: Math.round(under.rps), valid_errors: under.errors, flood_rps: summary.rps, flood_statuses: summary.statuses };
    scenarios.push(scenario);
    console.log(`${name.padEnd(20)} valid p50 ${under.p50Ms.toFixed(3)} ms (×${scenario.ratio}), ${scenario.valid_rps} rps, errors ${under.errors}; flood ${summary.rps} rps ${JSON.stringify(summary.statuses)}`);
  }
  const worst = scenarios.reduce((a, b) => ((b.ratio as number) > (a.ratio as number) ? b : a));
  console.log(JSON.stringify({
    p50_ms_baseline: round(baseline.p50Ms),
    p50_ms_under_flood: worst.p50_ms,
    ratio: worst.ratio,
    flood_rps: worst.flood_rps,
    worst_scenario: worst.scenario,
    target_ratio: TARGET_RATIO,
    concurrency: CONCURRENCY,
    scenarios,
  }));
} finally {
  for (const child of children) child.kill();
  await rm(dataDir, { recursive: true, force: true });
}
