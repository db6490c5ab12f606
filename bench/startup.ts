/**
 * Start-up benchmark: time from process spawn until the appliance answers /v2/health/ready with
 * the default model loaded, on a fresh data dir (first start: admin key, certificate, model
 * install) and on restarts. Baseline in the same run: a bare `node -e ''` spawn.
 * Run with `npm run bench:startup` (builds first). Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'node:https';

const MAIN = new URL('../dist/server/main.js', import.meta.url).pathname;
const RESTARTS = 5;
const TARGET_MS = 2000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function bareNodeMs(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return performance.now() - started;
}

const insecure = new Agent({ rejectUnauthorized: false, keepAlive: false });
function ready(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/v2/health/ready`, { agent: insecure }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Spawns the server as `npm start` would (LAN bind, TLS auto), waits until it is ready, stops it. */
async function timeStart(dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, 'serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, INFERBOX_LOG_LEVEL: 'warn' },
  });
  try {
    let output = '';
    child.stdout.setEncoding('utf8');
    let url: string | undefined;
    while (!url) {
      const chunk = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', resolve);
        child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
      });
      output += chunk;
      url = /https:\/\/localhost:\d+/.exec(output)?.[0];
    }
    while (!(await ready(url))) await new Promise((resolve) => setTimeout(resolve, 5));
    return performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-bench-'));
try {
  const baselines: number[] = [];
  for (let i = 0; i < 5; i++) baselines.push(await bareNodeMs());
  const baseline = median(baselines);
  const first = await timeStart(dataDir);
  const restarts: number[] = [];
  for (let i = 0; i < RESTARTS; i++) restarts.push(await timeStart(dataDir));
  const restart = median(restarts);
  console.log(`bare node spawn:            ${baseline.toFixed(0)} ms`);
  console.log(`first start (fresh dir):    ${first.toFixed(0)} ms  (${(first / baseline).toFixed(1)}× bare node)`);
  console.log(`restart, median of ${RESTARTS}:     ${restart.toFixed(0)} ms  (${(restart / baseline).toFixed(1)}× bare node)  [${restarts.map((r) => r.toFixed(0)).join(', ')}]`);
  console.log(`target: ready in under ${TARGET_MS} ms: ${Math.max(first, restart) < TARGET_MS ? 'met' : 'MISSED'}`);
  console.log(JSON.stringify({
    first_start_ms: Math.round(first),
    restart_median_ms: Math.round(restart),
    bare_node_ms: Math.round(baseline),
    first_start_ratio: Number((first / baseline).toFixed(2)),
    restart_ratio: Number((restart / baseline).toFixed(2)),
    target_ms: TARGET_MS,
  }));
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
