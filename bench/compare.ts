/**
 * `npm run bench:compare -- <rev>`: this checkout's serving path against another commit's, for a
 * change's before/after. On the 2-core development VM one server start differs from the next by
 * up to ±30% at light load (measured: the same build's mlp c=1 p50 ranged 228-424 µs over six
 * starts), so a single run each (bench:quick) cannot show a 10% change. This builds <rev> in a
 * temporary git worktree, then alternates fresh server starts of both (`--runs`, default 5 each),
 * each warmed up (c=1: 8 s, others 2 s) and then loaded with mlp REST JSON at each concurrency, and prints the medians:
 * p50, requests/s and the server's CPU per request (all its threads, from /proc), the least noisy
 * of the three. Loopback, `--tls off`, auth and the request log on, as bench/serving's mlp rows.
 * The last line is JSON: {"base", "rows": [{concurrency, base_*, current_*, *_ratio}]}.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { waitForBackgroundWork } from './backgroundWork.js';
import { runLoad, type LoadResult } from './loadClient.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '1,32' } },
});
const base = positionals[0];
if (!base) {
  console.error('usage: npm run bench:compare -- <rev> [--runs 5] [--seconds 4] [--concurrency 1,32]');
  process.exit(2);
}
const RUNS = Number(options.runs);
const SECONDS = Number(options.seconds);
const CONCURRENCY = options.concurrency.split(',').map(Number);
/** Unmeasured load before each concurrency's measurement; c=1 runs other code (see bench/serving.ts's WARM_C1_SECONDS). */
const warmSeconds = (concurrency: number) => (concurrency === 1 ? 8 : 2);
const BODY = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [47.5, 15, 217, 5076] }] }));

interface Server {
  child: ChildProcess;
  port: number;
  key: string;
  dataDir: string;
}

async function startServer(checkout: string): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-compare-data-'));
  const child = spawn(process.execPath, ['dist/server/main.js', 'serve', '--host', '127.0.0.1', '--port', '0', '--tls', 'off', '--data-dir', dataDir], {
    cwd: checkout,
    env: { ...process.env, INFERBOX_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let port = 0;
  for await (const chunk of child.stdout!) {
    output += String(chunk);
    const found = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (found) {
      port = Number(found[1]);
      break;
    }
  }
  if (port === 0) throw new Error(`the server in ${checkout} did not start:\n${output}`);
  child.stdout!.resume();
  const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
  await waitForBackgroundWork(async (path) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
    return { status: response.status, text: await response.text() };
  });
  const answer = await fetch(`http://127.0.0.1:${port}/api/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'compare', scopes: ['infer'] }) });
  if (!answer.ok) throw new Error(`key creation failed: ${answer.status} ${await answer.text()}`);
  return { child, port, key: ((await answer.json()) as { key: string }).key, dataDir };
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((done) => server.child.once('exit', done));
  server.child.kill('SIGINT');
  await exited;
  await rm(server.dataDir, { recursive: true, force: true });
}

/** One fresh server of the checkout: a warm-up, then one measured load per concurrency. */
async function measure(checkout: string): Promise<Map<number, LoadResult>> {
  const server = await startServer(checkout);
  try {
    const spec = { port: server.port, path: '/v2/models/mlp/infer', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, body: BODY, serverPid: server.child.pid! };
    const results = new Map<number, LoadResult>();
    for (const concurrency of CONCURRENCY) {
      await runLoad({ ...spec, concurrency, seconds: warmSeconds(concurrency) });
      results.set(concurrency, await runLoad({ ...spec, concurrency, seconds: SECONDS }));
    }
    return results;
  } finally {
    await stopServer(server);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const baseDir = await mkdtemp(join(tmpdir(), 'inferbox-compare-'));
const checkouts = { base: join(baseDir, 'checkout'), current: ROOT };
try {
  execFileSync('git', ['worktree', 'add', '--detach', checkouts.base, base], { cwd: ROOT, stdio: 'ignore' });
  await symlink(join(ROOT, 'node_modules'), join(checkouts.base, 'node_modules'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.server.json'], { cwd: checkouts.base, stdio: 'inherit' });
  const samples = { base: [] as Map<number, LoadResult>[], current: [] as Map<number, LoadResult>[] };
  for (let run = 1; run <= RUNS; run++) {
    for (const side of ['base', 'current'] as const) samples[side].push(await measure(checkouts[side]));
    console.log(`run ${run}/${RUNS} done`);
  }
  const of = (side: 'base' | 'current', concurrency: number, pick: (r: LoadResult) => number) => median(samples[side].map((s) => pick(s.get(concurrency)!)));
  const rows = CONCURRENCY.map((concurrency) => {
    const row = {
      concurrency,
      base_p50_us: Math.round(of('base', concurrency, (r) => r.p50Ms * 1000)),
      current_p50_us: Math.round(of('current', concurrency, (r) => r.p50Ms * 1000)),
      base_rps: Math.round(of('base', concurrency, (r) => r.rps)),
      current_rps: Math.round(of('current', concurrency, (r) => r.rps)),
      base_cpu_us: Math.round(of('base', concurrency, (r) => r.serverCpuUsPerRequest ?? Number.NaN)),
      current_cpu_us: Math.round(of('current', concurrency, (r) => r.serverCpuUsPerRequest ?? Number.NaN)),
    };
    const ratio = (current: number, before: number) => Math.round((current / before) * 100) / 100;
    return { ...row, p50_ratio: ratio(row.current_p50_us, row.base_p50_us), rps_ratio: ratio(row.current_rps, row.base_rps), cpu_ratio: ratio(row.current_cpu_us, row.base_cpu_us) };
  });
  console.log(`mlp REST JSON, medians of ${RUNS} fresh server starts each (alternating), ${SECONDS} s per load after ${CONCURRENCY.map((c) => `${warmSeconds(c)} s`).join('/')} of warm-up; this checkout vs ${base}:`);
  for (const r of rows) {
    console.log(`c=${r.concurrency}: p50 ${r.base_p50_us} -> ${r.current_p50_us} µs (×${r.p50_ratio}), ${r.base_rps} -> ${r.current_rps} requests/s (×${r.rps_ratio}), server CPU ${r.base_cpu_us} -> ${r.current_cpu_us} µs per request (×${r.cpu_ratio})`);
  }
  console.log(JSON.stringify({ base, rows }));
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', checkouts.base], { cwd: ROOT, stdio: 'ignore' });
  await rm(baseDir, { recursive: true, force: true });
}
