import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { addModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

interface PayloadSummary { id: number; ts: string; request_id: string; model: string; version: string; key_id: string; bytes: number }
interface AuditEntry { action: string; target: string | null; actor_name: string; details: Record<string, unknown> }

const penguin = (id: string) => ({ id, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });
const sums = (id: string) => ({ id, inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [4, 5, 6] }] });

/** Waits until the request log holds the request (payloads are written in the same flush, 500 ms at most). */
async function logged(server: TestServer, requestId: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const page = (await (await server.request('GET', '/api/logs?limit=100')).json()) as { logs: { request_id: string }[] };
    if (page.logs.some((r) => r.request_id === requestId)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`request ${requestId} was not logged`);
}

async function infer(server: TestServer, model: string, body: unknown): Promise<{ requestId: string; answer: string }> {
  const response = await server.request('POST', `/v2/models/${model}/infer`, { json: body });
  assert.equal(response.status, 200);
  const answer = await response.text();
  const requestId = response.headers.get('x-request-id')!;
  await logged(server, requestId);
  return { requestId, answer };
}

const payloads = async (server: TestServer, query = '') => (await (await server.request('GET', `/api/payloads?${query}`)).json()) as { payloads: PayloadSummary[]; total: number };
const audit = async (server: TestServer, action: string) => ((await (await server.request('GET', `/api/audit?action=${action}`)).json()) as { entries: AuditEntry[] }).entries;
const fileBytes = (server: TestServer) => {
  const db = join(server.dataDir, 'inferbox.db');
  return Buffer.concat([readFileSync(db), existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`) : Buffer.alloc(0)]);
};

test('payload logging: off by default, on for one model only, the switch audited with before and after; export and erasure audited, erased data gone from the file', async () => {
  const server = await startTestServer();
  try {
    assert.equal((await server.request('POST', '/api/models/adder/versions?quantize=false', { body: addModel(), headers: { 'content-type': 'application/octet-stream' } })).status, 201);

    // Off by default: nothing stored for any model.
    await infer(server, 'mlp', penguin('default-off'));
    assert.equal((await payloads(server)).total, 0);
    const settings = (await (await server.request('GET', '/api/models/mlp/settings')).json()) as { effective: Record<string, unknown> };
    assert.deepEqual([settings.effective.log_payloads, settings.effective.payload_retention_days], [false, 7]);
    // The server-wide switch is gone: a clear 400, not a silent no-op.
    const global = await server.request('PUT', '/api/settings', { json: { log_payloads: true } });
    assert.equal(global.status, 400);
    assert.match(((await global.json()) as { error: string }).error, /log_payloads/);

    // On for mlp only, with a 2-day retention.
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { log_payloads: true, payload_retention_days: 2 } })).status, 200);
    const [switched] = (await audit(server, 'model.settings')).filter((e) => e.target === 'mlp');
    assert.deepEqual(switched!.details.before, { log_payloads: false, payload_retention_days: 7 });
    assert.deepEqual(switched!.details.after, { log_payloads: true, payload_retention_days: 2 });
    assert.equal(switched!.actor_name, 'admin');

    const first = await infer(server, 'mlp', penguin('ERASE-ME-first'));
    const second = await infer(server, 'mlp', penguin('second'));
    await infer(server, 'adder', sums('other-model'));
    const stored = await payloads(server);
    assert.deepEqual(stored.payloads.map((p) => p.request_id).sort(), [first.requestId, second.requestId].sort(), "the other model's request is not stored");
    assert.ok(stored.payloads.every((p) => p.model === 'mlp' && p.version === '1' && p.key_id && p.bytes > 0 && !('payload_json' in p)), 'the listing has no content');
    assert.ok(fileBytes(server).includes('ERASE-ME-first'), 'the test can see the stored payload in the file');

    // Export: JSON lines with the request and the response as they went over the wire; audited with the row count.
    const exported = await server.request('GET', '/api/payloads/export?model=mlp');
    assert.equal(exported.status, 200);
    assert.equal(exported.headers.get('content-type'), 'application/x-ndjson');
    assert.match(exported.headers.get('content-disposition') ?? '', /attachment; filename="payloads-mlp.jsonl"/);
    const lines = (await exported.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { request_id: string; request: string; response: string; model: string });
    assert.deepEqual(lines.map((l) => l.request_id), [first.requestId, second.requestId]);
    assert.deepEqual(JSON.parse(lines[0]!.request), penguin('ERASE-ME-first'));
    assert.equal(lines[0]!.response, first.answer);
    const [exportAudit] = await audit(server, 'payloads.export');
    assert.deepEqual([exportAudit!.target, exportAudit!.details.rows, exportAudit!.details.filter], ['mlp', 2, { model: 'mlp' }]);

    // Erasure by request id: the row is gone, also from the database file and its log.
    const byRequest = await server.request('DELETE', `/api/payloads?request_id=${first.requestId}`);
    assert.deepEqual(await byRequest.json(), { deleted: { payloads: 1, live_samples: 0, wal_truncated: true } });
    assert.deepEqual((await payloads(server)).payloads.map((p) => p.request_id), [second.requestId]);
    assert.ok(!fileBytes(server).includes('ERASE-ME-first'), 'erased payloads do not stay in free pages or the write-ahead log');

    // By time range, then everything of the model.
    const third = await infer(server, 'mlp', penguin('third'));
    const [secondRow] = (await payloads(server, `request_id=${second.requestId}`)).payloads;
    const range = new URLSearchParams({ since: secondRow!.ts, until: new Date(Date.parse(secondRow!.ts) + 1).toISOString() });
    assert.deepEqual(((await (await server.request('DELETE', `/api/payloads?${range}`)).json()) as { deleted: { payloads: number } }).deleted.payloads, 1);
    assert.deepEqual((await payloads(server)).payloads.map((p) => p.request_id), [third.requestId]);
    assert.deepEqual(((await (await server.request('DELETE', '/api/payloads?model=mlp')).json()) as { deleted: { payloads: number } }).deleted.payloads, 1);
    assert.equal((await payloads(server)).total, 0);
    const deletions = await audit(server, 'payloads.delete');
    assert.deepEqual(deletions.map((e) => [e.details.filter, e.details.payloads]), [[{ model: 'mlp' }, 1], [Object.fromEntries(range), 1], [{ request_id: first.requestId }, 1]], 'newest first: who erased what and how many rows');

    // Switched off: nothing more is stored.
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { log_payloads: false } })).status, 200);
    await infer(server, 'mlp', penguin('after-off'));
    assert.equal((await payloads(server)).total, 0);
  } finally {
    await server.cleanup();
  }
});

test('live quantization samples are erased with their request; bad erasures and non-admin keys are refused in the OIP shape', async () => {
  const server = await startTestServer();
  try {
    assert.equal((await server.request('PUT', '/api/models/mlp/samples/recording', { json: { limit: 5 } })).status, 200);
    const { requestId } = await infer(server, 'mlp', penguin('sampled'));
    const samples = async () => ((await (await server.request('GET', '/api/models/mlp/samples')).json()) as { samples: { source: string; request_id: string | null }[] }).samples.filter((s) => s.source === 'live');
    assert.deepEqual((await samples()).map((s) => s.request_id), [requestId]);
    assert.deepEqual(await (await server.request('DELETE', `/api/payloads?request_id=${requestId}`)).json(), { deleted: { payloads: 0, live_samples: 1, wal_truncated: true } });
    assert.deepEqual(await samples(), []);

    for (const [query, pattern] of [['', /name what to erase/], ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', /since must be before until/], ['since=yesterday', /since/], ['everything=1', /everything/]] as const) {
      const refused = await server.request('DELETE', `/api/payloads?${query}`);
      assert.equal(refused.status, 400, query);
      assert.match(((await refused.json()) as { error: string }).error, pattern);
    }
    const { key } = (await (await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
    for (const [method, path] of [['GET', '/api/payloads'], ['GET', '/api/payloads/export'], ['DELETE', '/api/payloads?model=mlp']] as const) {
      assert.equal((await server.request(method, path, { key })).status, 403, `${method} ${path}`);
    }
  } finally {
    await server.cleanup();
  }
});

test('payloads older than their model\'s retention are purged when the server starts (the same purge runs hourly)', async () => {
  const server = await startTestServer();
  try {
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { log_payloads: true } })).status, 200);
    const old = await infer(server, 'mlp', penguin('old'));
    const recent = await infer(server, 'mlp', penguin('recent'));
    await server.stop();
    // Eight days ago: past the default 7-day retention.
    const db = new Database(join(server.dataDir, 'inferbox.db'));
    db.prepare('UPDATE inference_payloads SET ts = ? WHERE request_id = ?').run(new Date(Date.now() - 8 * 24 * 3_600_000).toISOString(), old.requestId);
    db.close();
    const restarted = await startTestServer({ dataDir: server.dataDir });
    try {
      assert.deepEqual((await payloads(restarted)).payloads.map((p) => p.request_id), [recent.requestId]);
    } finally {
      await restarted.stop();
    }
  } finally {
    await server.cleanup();
  }
});

test('deep JSON in parameters with payload logging on: the request is answered, and the stored payload says what was cut', async () => {
  const server = await startTestServer();
  try {
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { log_payloads: true } })).status, 200);
    // 10,000 levels (about 20 KB): JSON.parse takes it, JSON.stringify overflows the stack (a 500 before).
    const depth = 10_000;
    const body = `{"id":"deep","parameters":{"tag":"deep","x":${'['.repeat(depth)}${']'.repeat(depth)}},"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[${GENTOO_FEATURES.join(',')}]}]}`;
    for (const size of ['small', 'large'] as const) {
      // A body from 16 KB is decoded off the HTTP thread: pad the other one below that, with the same depth.
      const sent = size === 'large' ? body.replace('"tag":"deep"', `"tag":"${'x'.repeat(20_000)}"`) : body;
      const response = await server.request('POST', '/v2/models/mlp/infer', { body: sent, headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 200, `${size}: ${await response.clone().text()}`);
      const answer = (await response.json()) as { id: string; outputs: { name: string; data: number[] }[] };
      assert.deepEqual(answer.outputs.find((o) => o.name === 'label')!.data, [2]);
      const requestId = response.headers.get('x-request-id')!;
      await logged(server, requestId);
      const exported = (await (await server.request('GET', `/api/payloads/export?model=mlp`)).text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { request_id: string; request: string });
      const { request } = exported.find((line) => line.request_id === requestId)!;
      assert.match(request, /"inputs":\[\{"name":"features","datatype":"FP32","shape":\[1,4\],"data":\[47\.5,15,217,5076\]\}\]/, 'what fits is kept as sent');
      assert.match(request, /… \(values nested deeper than 64 levels left out\)$/);
      assert.ok(request.length < 70_000, `bounded: ${request.length} characters`);
    }
  } finally {
    await server.cleanup();
  }
});
