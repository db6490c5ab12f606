import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { TuningRepository } from '../../../server/store/TuningRepository.js';
import { slowPenguinModel } from '../../fixtures/onnxModels.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

/** A slow penguin classifier: 200 tanh layers of 256, milliseconds a row, much cheaper per row in batches. */
const MODEL = 'slowp';
const BODY = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [47.5, 15, 217, 5076] }] }));
const BASE = { min_instances: 1, max_instances: 1, max_batch_size: 1, max_queue_delay_micros: 0 };

interface Answer { sentAt: number; ms: number; ok: boolean }

/** Open-loop load: `rps` requests a second whatever the answers (callers that do not wait), until stopped. */
function openLoop(port: number, key: string, rps: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const answers: Answer[] = [];
  let owed = 0;
  let last = performance.now();
  const send = () => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path: `/v2/models/${MODEL}/infer`, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': BODY.length } }, (res) => {
      res.resume();
      res.on('end', () => answers.push({ sentAt: started, ms: performance.now() - started, ok: res.statusCode === 200 }));
    });
    req.on('error', () => answers.push({ sentAt: started, ms: performance.now() - started, ok: false }));
    req.end(BODY);
  };
  const timer = setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / 1000) * rps;
    last = now;
    for (; owed >= 1; owed -= 1) send();
  }, 5);
  return {
    answers,
    /**
     * The requests sent in [from, from + windowMs): how many were answered, and the p95 of all of
     * them (an unanswered or failed one counts as infinitely slow), so a backlog cannot hide.
     */
    window(from: number, windowMs: number) {
      const latencies = answers.filter((a) => a.sentAt >= from && a.sentAt < from + windowMs).map((a) => (a.ok ? a.ms : Number.POSITIVE_INFINITY)).sort((a, b) => a - b);
      const sent = Math.floor((windowMs / 1000) * rps);
      while (latencies.length < sent) latencies.push(Number.POSITIVE_INFINITY);
      return { sent, answered: latencies.filter(Number.isFinite).length, p95: latencies[Math.floor(latencies.length * 0.95)] ?? Number.NaN };
    },
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
  };
}

async function closedLoop(port: number, key: string, seconds: number): Promise<{ rps: number; p95: number }> {
  const agent = new Agent({ keepAlive: true });
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/v2/models/${MODEL}/infer`, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': BODY.length } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(BODY);
    });
    latencies.push(performance.now() - started);
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p95: latencies[Math.floor(latencies.length * 0.95)]! };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const audit = async (server: TestServer, action: string) =>
  ((await (await server.request('GET', `/api/audit?action=${action}&limit=100`)).json()) as { entries: { action: string; details: Record<string, unknown> }[] }).entries;

test('adaptive remediation: a step of load to 1.5x the tuned capacity brings p95 back under the objective within 120 s through a larger tuned candidate, and the model returns once the load falls', async (t) => {
  // Windows shortened from 30 s and 60 s (the requirement's 120 s and 5 minutes hold a fortiori).
  const server = await startTestServer({ capacityAdvisor: { windowMs: 2000, intervalMs: 250 }, remediation: { sustainMs: 2000, calmMs: 3000 } });
  const port = Number(new URL(server.baseUrl).port);
  try {
    assert.equal((await server.request('POST', `/api/models/${MODEL}/versions?quantize=false`, { body: slowPenguinModel(200, 256), headers: { 'content-type': 'application/octet-stream' } })).status, 201);
    assert.equal((await server.request('PUT', `/api/models/${MODEL}/settings`, { json: BASE })).status, 200);
    const { key } = (await (await server.request('POST', '/api/keys', { json: { name: 'load', scopes: ['infer'] } })).json()) as { key: string };
    await closedLoop(port, key, 1); // warm-up
    const base = await closedLoop(port, key, 3);
    const objective = Math.max(50, Math.round(base.p95 * 5));
    assert.equal((await server.request('PUT', `/api/models/${MODEL}/settings`, { json: { latency_objective_p95_ms: objective, adaptive_remediation: true } })).status, 200);
    // The version's last tuning run, as the tuner stores one: the current serving (one instance, no
    // batching) with the capacity just measured, and a larger candidate (2 instances, batches of 32)
    // with more peak throughput. Which candidate is larger is all remediation reads of it; whether
    // it brings p95 back is measured below, on the real server.
    const db = new Database(join(server.dataDir, 'inferbox.db'));
    try {
      const runs = new TuningRepository(db);
      const at = new Date().toISOString();
      const candidate = (id: string, change: Record<string, number>) => ({ id, description: id, precision: 'fp32', provider: 'cpu', intra_op_threads: 1, ...BASE, ...change });
      runs.start({ model_name: MODEL, version: '1', budget_seconds: 60, objective_p95_ms: objective, started_at: at, plan: { candidates: [candidate('current', {}), candidate('batched', { min_instances: 2, max_instances: 2, max_batch_size: 32 })], skipped: [], concurrencies: [1, 2, 4], level_seconds: 1, inputs: 'generated' } });
      runs.addResult(MODEL, '1', { id: 'current', curve: [{ concurrency: 1, rps: base.rps, p50_ms: base.p95 / 2, p95_ms: base.p95, errors: 0 }], error: null, measured_at: at });
      runs.addResult(MODEL, '1', { id: 'batched', curve: [1, 2, 4].map((c) => ({ concurrency: c, rps: base.rps * c, p50_ms: base.p95, p95_ms: base.p95 * 2, errors: 0 })), error: null, measured_at: at });
      runs.finish(MODEL, '1', { status: 'done', choice: { id: 'current' }, error: null, at });
    } finally {
      db.close();
    }

    const load = openLoop(port, key, base.rps * 1.5);
    const started = Date.now();
    const loadStarted = performance.now();
    try {
      const step = await until('a remediation step', async () => (await audit(server, 'model.remediation.step'))[0], 120_000);
      assert.equal(step.details.to, 'batched');
      assert.match(String(step.details.reason), /stayed above the objective/);
      const overrides = ((await (await server.request('GET', `/api/models/${MODEL}/settings`)).json()) as { overrides: Record<string, unknown> }).overrides;
      assert.deepEqual([overrides.max_batch_size, overrides.min_instances], [32, 2], 'served as the larger candidate');
      const capacity = ((await (await server.request('GET', '/api/capacity')).json()) as { models: { model: string; remediation: { to: string } | null }[] }).models.find((m) => m.model === MODEL);
      assert.equal(capacity?.remediation?.to, 'batched', 'the dashboard says so');
      // Every request sent in a 2 s window after the step answered, 95% of them within the objective.
      const steppedAt = performance.now();
      const back = await until('p95 back under the objective', async () => {
        for (let from = steppedAt; from + 2000 + 1000 <= performance.now(); from += 250) {
          const window = load.window(from, 2000);
          if (window.p95 <= objective) return { ...window, after: (from + 2000 - steppedAt) / 1000 };
        }
        return undefined;
      }, 120_000 - (Date.now() - started));
      assert.ok(Date.now() - started <= 120_000);
      const before = Number(/p95 ([\d.]+) ms stayed above/.exec(String(step.details.reason))?.[1]);
      assert.ok(before > objective, `the base serving was over the objective before the step (${before} ms)`);
      t.diagnostic(`base ${base.rps.toFixed(0)} requests/s (p95 ${base.p95.toFixed(1)} ms), objective ${objective} ms, load ${(base.rps * 1.5).toFixed(0)}/s; p95 ${before} ms before the step, found ${((steppedAt - loadStarted) / 1000).toFixed(1)} s into the load; then ${back.answered} of ${back.sent} answered in 2 s with p95 ${back.p95.toFixed(1)} ms, that window ending ${back.after.toFixed(1)} s after the step`);
    } finally {
      load.stop();
    }
    const stopped = Date.now();
    const returned = await until('the return', async () => (await audit(server, 'model.remediation.return'))[0], 300_000);
    t.diagnostic(`returned ${(Date.now() - stopped) / 1000} s after the load stopped`);
    assert.equal(returned.details.to, 'current');
    const after = ((await (await server.request('GET', `/api/models/${MODEL}/settings`)).json()) as { overrides: Record<string, unknown> }).overrides;
    assert.deepEqual(after, { ...BASE, latency_objective_p95_ms: objective, adaptive_remediation: true }, 'the settings it had before the step');
  } finally {
    await server.cleanup();
  }
});
