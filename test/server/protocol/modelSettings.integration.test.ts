import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

const gentoo = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

describe('per-model serving settings, idle unloading and per-stage timing', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer(); });
  after(() => server.cleanup());

  const settings = async (body?: unknown, key?: string) => {
    const response = await server.request(body === undefined ? 'GET' : 'PUT', '/api/models/mlp/settings', { json: body, ...(key ? { key } : {}) });
    return { status: response.status, body: (await response.json()) as { effective: Record<string, unknown>; overrides: Record<string, unknown>; error?: string } };
  };

  test('defaults follow the server settings; overrides are validated, merged, audited, and null puts one back', async () => {
    const initial = await settings();
    assert.equal(initial.status, 200);
    assert.deepEqual(initial.body.overrides, {});
    assert.equal(initial.body.effective.max_batch_size, 32, 'the server-wide batch_max_size');
    assert.equal(initial.body.effective.max_instances, 2, 'the plan\'s workers');

    const changed = await settings({ max_batch_size: 4, preferred_batch_sizes: [2, 4], timeout_micros: 500_000 });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body.overrides, { max_batch_size: 4, preferred_batch_sizes: [2, 4], timeout_micros: 500_000 });
    assert.equal(changed.body.effective.max_queue_size, 1024, 'unset fields keep following the default');

    const server2 = await server.request('PUT', '/api/settings', { json: { batch_max_queue_size: 50 } });
    assert.equal(server2.status, 200);
    assert.equal((await settings()).body.effective.max_queue_size, 50, 'a changed server default reaches the model');

    for (const bad of [{ min_instances: 3, max_instances: 2 }, { max_batch_size: 0 }, { no_such_setting: 1 }, { inline: 'yes' }]) {
      const refused = await settings(bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
      assert.match(refused.body.error ?? '', /invalid request/);
    }
    const { key } = (await (await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
    assert.equal((await settings({ max_batch_size: 2 }, key)).status, 403);
    assert.equal((await server.request('GET', '/api/models/nope/settings')).status, 404);

    const reset = await settings({ max_batch_size: null, preferred_batch_sizes: null, timeout_micros: null });
    assert.deepEqual(reset.body.overrides, {});
    assert.equal(reset.body.effective.max_batch_size, 32);
    const audit = (await (await server.request('GET', '/api/audit?limit=50')).json()) as { entries: { action: string; target: string }[] };
    assert.ok(audit.entries.filter((e) => e.action === 'model.settings' && e.target === 'mlp').length >= 2);
  });

  test('every answer says where its time went, in Server-Timing and in the request log', async () => {
    const response = await server.request('POST', '/v2/models/mlp/infer', { json: { ...gentoo, id: 'timed' } });
    assert.equal(response.status, 200);
    const header = response.headers.get('server-timing') ?? '';
    assert.match(header, /^decode;dur=[\d.]+, queue;dur=[\d.]+, batch;dur=[\d.]+;desc="rows=1", infer;dur=[\d.]+, serialize;dur=[\d.]+, cache;desc="off"$/);
    const stages = Object.fromEntries([...header.matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
    assert.ok(stages.infer! > 0, 'the run took some time');
    const requestId = response.headers.get('x-request-id');
    let row: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const logs = (await (await server.request('GET', '/api/logs?model=mlp&limit=20')).json()) as { logs: Record<string, unknown>[] };
      row = logs.logs.find((e) => e.request_id === requestId);
    }
    assert.ok(row, 'the request was logged');
    for (const column of ['decode_ms', 'queue_ms', 'batch_ms', 'infer_ms', 'serialize_ms']) assert.equal(typeof row[column], 'number', column);
    assert.equal(row.batch_rows, 1);
    const counted = await server.running.metrics.registry.getSingleMetricAsString('inferbox_inference_requests_total');
    assert.match(counted, /inferbox_inference_requests_total\{model="mlp",version="1",protocol="rest",outcome="success"\} [1-9]/);
    const compute = await server.running.metrics.registry.getSingleMetricAsString('inferbox_compute_duration_seconds');
    assert.match(compute, /inferbox_compute_duration_seconds_count\{model="mlp",version="1"\} [1-9]/);
    assert.ok((row.total_ms as number) >= (row.infer_ms as number));
  });

  test('an idle model unloads after its idle time, stays ready, and its next request loads it again', async () => {
    assert.equal((await settings({ idle_unload_seconds: 1 })).status, 200);
    const state = async () => ((await (await server.request('GET', '/api/models/mlp')).json()) as { versions: { state: string }[] }).versions[0]!.state;
    const deadline = Date.now() + 8000;
    while ((await state()) !== 'idle') {
      assert.ok(Date.now() < deadline, 'unloaded within a few seconds of its 1 s idle time');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal((await server.request('GET', '/v2/health/ready', { key: null })).status, 200, 'an idle model does not make the server unready');
    assert.equal((await server.request('GET', '/v2/models/mlp/ready')).status, 200);
    const woken = await server.request('POST', '/v2/models/mlp/infer', { json: gentoo });
    assert.equal(woken.status, 200, 'the request waited for the load and was answered');
    const body = (await woken.json()) as { outputs: { name: string; data: number[] }[] };
    assert.ok(body.outputs.length > 0);
    assert.equal(await state(), 'ready');
    assert.equal((await settings({ idle_unload_seconds: 0 })).status, 200);
  });
});
