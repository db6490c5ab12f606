import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { inferenceClient } from '../../helpers/grpcClient.js';
import { requestFrom } from '../../helpers/requestFrom.js';
import { parsePrometheusText, valueOf, type Sample } from '../../helpers/prometheusText.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

/**
 * GET /metrics on a real server (127.0.0.1, real SQLite and onnxruntime): access by the `metrics`
 * scope and the loopback setting, and the numbers after known traffic.
 */
let server: TestServer;
let metricsKey: string;
let inferKey: string;
const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');
const BAD_KEY = 'ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function createKey(scopes: string[]): Promise<string> {
  const response = await server.request('POST', '/api/keys', { json: { name: scopes.join('+'), scopes } });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { key: string }).key;
}

async function settings(values: Record<string, unknown>): Promise<void> {
  const response = await server.request('PUT', '/api/settings', { json: values });
  assert.equal(response.status, 200, await response.text());
}

async function scrape(key: string | null = metricsKey): Promise<Sample[]> {
  const response = await server.request('GET', '/metrics', { key });
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await response.text());
}

const rows = (n: number) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [n, 4], data: Array.from({ length: n }, () => GENTOO_FEATURES).flat() }] });
const infer = (body: unknown, path = '/v2/models/mlp/versions/1/infer', headers: Record<string, string> = {}) => server.request('POST', path, { key: inferKey, json: body, headers });

before(async () => {
  server = await startTestServer();
  await server.request('POST', '/api/setup/complete');
  metricsKey = await createKey(['metrics']);
  inferKey = await createKey(['infer']);
});
after(() => server.cleanup());

describe('access', () => {
  test('a metrics key reads /metrics and nothing else; other keys and no key are refused', async () => {
    assert.ok((await scrape()).length > 0);
    assert.equal((await server.request('GET', '/metrics', { key: null })).status, 401);
    const refused = await server.request('GET', '/metrics', { key: inferKey });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /'metrics' scope/);
    assert.equal((await server.request('GET', '/api/metrics/summary', { key: metricsKey })).status, 403);
    assert.equal((await server.request('POST', '/v2/models/mlp/infer', { key: metricsKey, json: rows(1) })).status, 403);
    assert.equal((await server.request('GET', '/metrics')).status, 200, 'admin implies metrics');
  });

  test('metrics_loopback_without_key lets a keyless scraper on loopback in; a wrong key is still refused and throttled', async () => {
    // The scraper comes from its own loopback address, so its back-off does not reach the test's admin calls.
    const scraper = (key: string | null, path = '/metrics') => requestFrom('127.0.0.7', `${server.baseUrl}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    await settings({ metrics_loopback_without_key: true, auth_failures_before_backoff: 3, auth_backoff_initial_seconds: 30 });
    try {
      const open = await scraper(null);
      assert.equal(open.status, 200);
      assert.ok(valueOf(parsePrometheusText(open.body), 'inferbox_worker_threads') !== undefined);
      assert.equal((await scraper(null, '/api/metrics/summary')).status, 401, 'only /metrics (a failure of the address: 1)');
      assert.equal((await scraper(BAD_KEY)).status, 401, 'failure 2');
      assert.equal((await scraper(BAD_KEY)).status, 401, 'failure 3: the address backs off');
      const throttled = await scraper(BAD_KEY);
      assert.equal(throttled.status, 429, 'a scraper with a wrong key backs off like anyone');
      assert.ok(throttled.headers['retry-after']);
    } finally {
      await settings({ metrics_loopback_without_key: null, auth_failures_before_backoff: null, auth_backoff_initial_seconds: null });
    }
    assert.equal((await server.request('GET', '/metrics', { key: null })).status, 401, 'off again: a key is needed');
  });

  test('the setting is refused when it is not a boolean', async () => {
    const response = await server.request('PUT', '/api/settings', { json: { metrics_loopback_without_key: 'yes' } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /metrics_loopback_without_key/);
  });
});

describe('numbers', () => {
  test('requests, inferences, executions, durations and failures per model version', async () => {
    const before = await scrape();
    const labels = { model: 'mlp', version: '1' };
    const count = (samples: Sample[], name: string, extra: Record<string, string> = {}) => valueOf(samples, name, { ...labels, ...extra }) ?? 0;
    // Sequential requests: each runs alone, so executions are exactly the requests.
    for (const n of [1, 3, 2]) assert.equal((await infer(rows(n))).status, 200);
    assert.equal((await infer({ inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] })).status, 400);
    assert.equal((await infer(rows(1), '/v2/models/no-such-model/infer')).status, 404);
    const now = await scrape();
    assert.equal(count(now, 'inferbox_inference_requests_total', { outcome: 'success' }) - count(before, 'inferbox_inference_requests_total', { outcome: 'success' }), 3);
    assert.equal(count(now, 'inferbox_inference_requests_total', { outcome: 'failure' }) - count(before, 'inferbox_inference_requests_total', { outcome: 'failure' }), 1);
    assert.equal(count(now, 'inferbox_inferences_total') - count(before, 'inferbox_inferences_total'), 6, 'rows: 1 + 3 + 2');
    assert.equal(count(now, 'inferbox_executions_total') - count(before, 'inferbox_executions_total'), 3);
    assert.equal(count(now, 'inferbox_request_duration_seconds_count') - count(before, 'inferbox_request_duration_seconds_count'), 4);
    assert.equal(count(now, 'inferbox_compute_duration_seconds_count') - count(before, 'inferbox_compute_duration_seconds_count'), 3, 'only runs have a compute time');
    assert.equal(valueOf(now, 'inferbox_inference_requests_total', { model: '(unknown)', version: '(unknown)', outcome: 'failure' }), 1, 'an unknown model mints no series of its own');
    assert.ok(!now.some((s) => s.labels.model === 'no-such-model'));
  });

  test('requests are counted by protocol: rest, predict and grpc', async () => {
    const before = await scrape();
    const count = (samples: Sample[], protocol: string) => valueOf(samples, 'inferbox_inference_requests_total', { model: 'mlp', version: '1', protocol, outcome: 'success' }) ?? 0;
    assert.equal((await infer(rows(1))).status, 200);
    const predicted = await server.request('POST', '/api/predict/mlp', { key: inferKey, json: { rows: [{ body_mass_g: 5076, beak_length_mm: 47.5, beak_depth_mm: 15.0, flipper_length_mm: 217 }] } });
    assert.equal(predicted.status, 200, await predicted.clone().text());
    const client = inferenceClient(server.running.grpcTargets[0]!, inferKey);
    try {
      const raw = Buffer.from(new Float32Array(GENTOO_FEATURES).buffer);
      assert.equal((await client.call('ModelInfer', { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [raw] })).error, null);
    } finally {
      client.close();
    }
    const now = await scrape();
    assert.deepEqual(['rest', 'predict', 'grpc'].map((protocol) => count(now, protocol) - count(before, protocol)), [1, 1, 1]);
  });

  test('promtool check metrics passes a real scrape with no warning', async (t) => {
    const promtool = spawnSync('promtool', ['--version']);
    if (promtool.error) {
      // CI installs Debian's prometheus package (.ci/run) and sets CI_REQUIRE_PROMTOOL: there its absence fails.
      if (process.env.CI_REQUIRE_PROMTOOL === '1') assert.fail(`promtool is required here (CI_REQUIRE_PROMTOOL=1) but cannot run: ${promtool.error.message}`);
      t.skip('promtool is not installed (apt-get install --no-install-recommends prometheus)');
      return;
    }
    assert.equal((await infer(rows(1))).status, 200);
    const text = await (await server.request('GET', '/metrics', { key: metricsKey })).text();
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(`${checked.stdout}${checked.stderr}`.trim(), '', 'promtool has no complaint');
    assert.equal(checked.status, 0);
  });

  test('the batcher joins concurrent requests: inferences / executions is the average batch size', async () => {
    // One instance and no HTTP-thread runs, so concurrent requests queue and are joined.
    const put = await server.request('PUT', '/api/models/mlp/settings', { json: { max_instances: 1, min_instances: 1, inline: false } });
    assert.equal(put.status, 200, await put.text());
    try {
      const before = await scrape();
      const statuses = await Promise.all(Array.from({ length: 64 }, () => infer(rows(2)).then((r) => r.status)));
      assert.ok(statuses.every((s) => s === 200));
      const now = await scrape();
      const delta = (name: string) => (valueOf(now, name, { model: 'mlp', version: '1' }) ?? 0) - (valueOf(before, name, { model: 'mlp', version: '1' }) ?? 0);
      assert.equal(delta('inferbox_inferences_total'), 128);
      const executions = delta('inferbox_executions_total');
      assert.ok(executions >= 1 && executions <= 64, `${executions} executions`);
    } finally {
      await server.request('PUT', '/api/models/mlp/settings', { json: { max_instances: null, min_instances: null, inline: null } });
    }
  });

  test('serving state: loaded versions, instances, worker threads, queue depth; process CPU and memory', async () => {
    const samples = await scrape();
    assert.equal(valueOf(samples, 'inferbox_model_loaded', { model: 'mlp', version: '1' }), 1);
    assert.ok((valueOf(samples, 'inferbox_model_instances', { model: 'mlp', version: '1' }) ?? 0) >= 1);
    assert.equal(valueOf(samples, 'inferbox_worker_threads'), 2, 'the test server runs two workers');
    assert.equal(valueOf(samples, 'inferbox_queue_depth', { model: 'mlp', version: '1' }), 0, 'nothing waits now');
    assert.ok((valueOf(samples, 'inferbox_process_cpu_seconds_total') ?? 0) > 0);
    assert.ok((valueOf(samples, 'inferbox_process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024);
    assert.ok(samples.every((s) => s.name.startsWith('inferbox_')), 'every name has the prefix');
  });

  test('cache hits and misses', async () => {
    assert.equal((await server.request('PUT', '/api/models/mlp/cache', { json: { enabled: true } })).status, 200);
    try {
      const before = await scrape();
      for (let i = 0; i < 3; i++) assert.equal((await infer(rows(1))).status, 200);
      const now = await scrape();
      const delta = (result: string) => (valueOf(now, 'inferbox_cache_requests_total', { model: 'mlp', version: '1', result }) ?? 0) - (valueOf(before, 'inferbox_cache_requests_total', { model: 'mlp', version: '1', result }) ?? 0);
      assert.deepEqual([delta('miss'), delta('hit')], [1, 2]);
    } finally {
      await server.request('PUT', '/api/models/mlp/cache', { json: { enabled: false } });
    }
  });

  test('per experiment variant', async () => {
    const upload = await server.request('POST', '/api/models/mlp/versions?quantize=false&activate=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201, await upload.clone().text());
    const v2 = ((await upload.json()) as { version: string }).version;
    const created = await server.request('POST', '/api/experiments', { json: { name: 'metrics', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }] } });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    assert.equal((await server.request('POST', `/api/experiments/${id}/start`)).status, 200);
    try {
      const served: Record<string, number> = {};
      for (let unit = 0; unit < 20; unit++) {
        const response = await infer(rows(1), '/v2/models/mlp/infer', { 'x-unit-id': `unit-${unit}` });
        assert.equal(response.status, 200);
        const variant = response.headers.get('inferbox-variant')!.split('/')[1]!;
        served[variant] = (served[variant] ?? 0) + 1;
      }
      const samples = await scrape();
      for (const variant of ['control', 'candidate']) {
        assert.equal(valueOf(samples, 'inferbox_experiment_requests_total', { model: 'mlp', experiment: id, variant, outcome: 'success' }) ?? 0, served[variant] ?? 0, variant);
      }
    } finally {
      await server.request('POST', `/api/experiments/${id}/stop`);
    }
  });
});

test('the console history: samples of the same summary, every 2 s', async () => {
  let samples: { at: string; models: { model: string; success: number }[] }[] = [];
  for (let i = 0; i < 40 && samples.length < 2; i++) {
    await sleep(250);
    const response = await server.request('GET', '/api/metrics/history');
    assert.equal(response.status, 200);
    const body = (await response.json()) as { interval_ms: number; samples: typeof samples };
    assert.equal(body.interval_ms, 2000);
    samples = body.samples;
  }
  assert.ok(samples.length >= 2, 'two samples within 10 s');
  assert.ok(Date.parse(samples[1]!.at) > Date.parse(samples[0]!.at));
  const summary = (await (await server.request('GET', '/api/metrics/summary')).json()) as { models: { model: string; version: string; success: number }[] };
  const latest = samples.at(-1)!.models.find((m) => m.model === 'mlp');
  assert.ok(latest && latest.success > 0 && latest.success <= summary.models.find((m) => m.model === 'mlp' && m.version === '1')!.success);
});
