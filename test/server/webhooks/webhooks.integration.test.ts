import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { failingPenguinModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');

interface Received { headers: Record<string, string | string[] | undefined>; body: string; status: number }

/** A real HTTP receiver on 127.0.0.1 that answers each request with the next scripted status (then 200). */
class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  private server: Server | undefined;
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.script.shift() ?? 200;
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver failed');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => { this.server?.closeAllConnections(); this.server?.close(() => resolve()); });
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.headers['inferbox-event'] === type);
  }
}

/** How a receiver verifies a delivery (the snippet in the README): HMAC-SHA256 over "<t>.<body>", constant-time compare, fresh timestamp. */
function verify(secret: string, header: string, body: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Delivery { id: string; event_type: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null; body: { id: string; type: string; data: Record<string, unknown> } }

let server: TestServer;
const receiver = new Receiver();

async function createWebhook(json: unknown): Promise<{ id: string; secret: string }> {
  const response = await server.request('POST', '/api/webhooks', { json });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: string; secret: string };
}

async function deliveries(id: string): Promise<Delivery[]> {
  return ((await (await server.request('GET', `/api/webhooks/${id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries;
}

before(async () => {
  await receiver.listen();
  server = await startTestServer();
  const settings = await server.request('PUT', '/api/settings', { json: { webhook_retry_initial_seconds: 0.05, webhook_retry_max_seconds: 0.2, webhook_max_attempts: 4, webhook_timeout_seconds: 5 } });
  assert.equal(settings.status, 200, await settings.text());
});
after(async () => {
  await server.cleanup();
  await receiver.close();
});

test('URLs must stay on the LAN: public addresses and other schemes are refused with a 400', async () => {
  for (const [url, message] of [
    ['http://8.8.8.8/hook', /8\.8\.8\.8 is not a loopback, private/],
    ['https://[2001:4860:4860::8888]/hook', /is not a loopback, private/],
    ['http://100.64.0.1/', /not a loopback, private/],
    ['ftp://10.0.0.1/hook', /use http:\/\/ or https:\/\//],
    ['http://user:pw@10.0.0.1/hook', /no user name or password/],
    ['not a url', /not a URL/],
  ] as const) {
    const response = await server.request('POST', '/api/webhooks', { json: { url } });
    assert.equal(response.status, 400, url);
    assert.match(((await response.json()) as { error: string }).error, message, url);
  }
  const events = await server.request('POST', '/api/webhooks', { json: { url: receiver.url(), events: ['model.deleted'] } });
  assert.equal(events.status, 400);
  // Private, link-local and host names are accepted (names are checked at each delivery).
  for (const url of ['http://192.168.1.20:9000/hook', 'https://[fd00::5]/x', 'http://169.254.1.1/', 'http://build-server.lan/hook']) {
    const created = await createWebhook({ url, enabled: false });
    assert.equal((await server.request('DELETE', `/api/webhooks/${created.id}`)).status, 200);
  }
});

test('model registered: a signed delivery the receiver can verify, with the labels and metrics', async () => {
  const hook = await createWebhook({ url: receiver.url(), events: ['model.registered'] });
  assert.match(hook.secret, /^whsec_/);
  const list = (await (await server.request('GET', '/api/webhooks')).json()) as { webhooks: Record<string, unknown>[] };
  assert.ok(list.webhooks.every((w) => !('secret' in w)), 'the secret is shown once, at creation');

  const body = new FormData();
  body.append('metadata', JSON.stringify({ labels: { git_commit: 'abc' }, metrics: { accuracy: 0.95 } }));
  body.append('model', new Blob([await readFile(MLP)]), 'model.onnx');
  assert.equal((await server.request('POST', '/api/models/penguins/versions?quantize=false', { body })).status, 201);

  const got = await until('model.registered', () => receiver.ofType('model.registered')[0]);
  assert.equal(got.headers['content-type'], 'application/json');
  assert.ok(verify(hook.secret, String(got.headers['inferbox-signature']), got.body), 'the signature verifies with the secret');
  assert.equal(verify('whsec_other', String(got.headers['inferbox-signature']), got.body), false, 'and not with another secret');
  assert.equal(verify(hook.secret, String(got.headers['inferbox-signature']), got.body.replace('abc', 'abd')), false, 'nor for a changed body');
  const event = JSON.parse(got.body) as { id: string; type: string; created_at: string; data: Record<string, unknown> };
  assert.equal(event.type, 'model.registered');
  assert.match(event.id, /^evt_/);
  assert.equal(got.headers['inferbox-event-id'], event.id);
  assert.ok(!Number.isNaN(Date.parse(event.created_at)));
  assert.deepEqual({ model: event.data.model, version: event.data.version, labels: event.data.labels, metrics: event.data.metrics }, { model: 'penguins', version: '1', labels: { git_commit: 'abc' }, metrics: { accuracy: 0.95 } });
  const log = await until('delivered', async () => (await deliveries(hook.id)).find((d) => d.status === 'delivered'));
  assert.equal(log.attempts, 1);
  assert.equal(log.last_status_code, 200);
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('retried with back-off after 500s until the receiver takes it; given up after the cap', async () => {
  const hook = await createWebhook({ url: receiver.url('/retry'), events: ['model.registered'] });
  receiver.script = [500, 503];
  const test1 = (await (await server.request('POST', `/api/webhooks/${hook.id}/test`)).json()) as { delivery_id: string; event_id: string };
  const delivered = await until('third attempt', async () => (await deliveries(hook.id)).find((d) => d.id === test1.delivery_id && d.status === 'delivered'));
  assert.equal(delivered.attempts, 3);
  const attempts = receiver.received.filter((r) => r.headers['inferbox-delivery'] === test1.delivery_id);
  assert.deepEqual(attempts.map((a) => a.status), [500, 503, 200]);
  assert.ok(attempts.every((a) => a.body === attempts[0]!.body), 'every attempt sends the same body');
  assert.ok(attempts.every((a) => verify(hook.secret, String(a.headers['inferbox-signature']), a.body)), 'each attempt is signed');

  receiver.script = [500, 500, 500, 500, 500];
  const test2 = (await (await server.request('POST', `/api/webhooks/${hook.id}/test`)).json()) as { delivery_id: string };
  const failed = await until('give up', async () => (await deliveries(hook.id)).find((d) => d.id === test2.delivery_id && d.status === 'failed'));
  assert.equal(failed.attempts, 4, 'webhook_max_attempts');
  assert.equal(failed.last_status_code, 500);
  assert.match(String(failed.last_error), /HTTP 500: receiver failed/);
  await sleep(400); // longer than the largest back-off: no fifth attempt comes
  assert.equal(receiver.received.filter((r) => r.headers['inferbox-delivery'] === test2.delivery_id).length, 4);
  receiver.script = [];
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('a host name is resolved at delivery (localhost: loopback, sent); the test button reaches a disabled endpoint', async () => {
  // A name resolving to a public address is refused at delivery: WebhookDispatcher.test.ts (no public DNS here).
  const hook = await createWebhook({ url: `http://localhost:${receiver.port}/byname`, enabled: false });
  const sent = (await (await server.request('POST', `/api/webhooks/${hook.id}/test`)).json()) as { delivery_id: string };
  const delivered = await until('test delivery by name', async () => (await deliveries(hook.id)).find((d) => d.id === sent.delivery_id && d.status !== 'pending'));
  assert.equal(delivered.status, 'delivered');
  assert.equal(receiver.ofType('webhook.test').at(-1)?.headers.host, `localhost:${receiver.port}`, 'the Host header keeps the name');
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('experiment stopped and promoted: experiment.completed with the outcome', async () => {
  const hook = await createWebhook({ url: receiver.url('/exp'), events: ['experiment.completed', 'experiment.rolled_back'] });
  const upload = await server.request('POST', '/api/models/penguins/versions?quantize=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
  const v2 = ((await upload.json()) as { version: string }).version;
  const create = async (name: string) => {
    const response = await server.request('POST', '/api/experiments', { json: { name, model: 'penguins', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }] } });
    const id = ((await response.json()) as { id: string }).id;
    assert.equal((await server.request('POST', `/api/experiments/${id}/start`)).status, 200);
    return id;
  };
  const stopped = await create('stop me');
  assert.equal((await server.request('POST', `/api/experiments/${stopped}/stop`)).status, 200);
  const promoted = await create('promote me');
  assert.equal((await server.request('POST', `/api/experiments/${promoted}/promote`, { json: { variant: 'candidate' } })).status, 200);
  const events = await until('two completions', () => {
    const got = receiver.ofType('experiment.completed').map((r) => JSON.parse(r.body) as { data: Record<string, unknown> });
    return got.length >= 2 ? got : undefined;
  });
  assert.deepEqual(events.map((e) => [e.data.experiment_id, e.data.outcome, e.data.status]), [[stopped, 'stopped', 'stopped'], [promoted, 'promoted', 'completed']]);
  assert.equal(events[1]!.data.version, v2);
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('experiment rolled back by a guardrail: experiment.rolled_back names the guardrail', async () => {
  const hook = await createWebhook({ url: receiver.url('/rollback'), events: ['experiment.rolled_back'] });
  const upload = await server.request('POST', '/api/models/penguins/versions?quantize=false', { body: failingPenguinModel(), headers: { 'content-type': 'application/octet-stream' } });
  const broken = ((await upload.json()) as { version: string }).version;
  const active = ((await (await server.request('GET', '/api/models/penguins')).json()) as { active_version: string }).active_version;
  const created = await server.request('POST', '/api/experiments', { json: { name: 'broken candidate', model: 'penguins', variants: [{ name: 'control', version: active }, { name: 'broken', version: broken }] } });
  const id = ((await created.json()) as { id: string }).id;
  assert.equal((await server.request('POST', `/api/experiments/${id}/start`)).status, 200);
  const event = await until('experiment.rolled_back', async () => {
    await server.request('POST', '/v2/models/penguins/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] }, headers: { 'x-unit-id': `u-${Math.random()}` } });
    return receiver.ofType('experiment.rolled_back').map((r) => JSON.parse(r.body) as { data: Record<string, unknown> }).find((e) => e.data.experiment_id === id);
  });
  assert.equal(event.data.outcome, 'rolled_back');
  assert.equal(event.data.status, 'rolled_back');
  assert.equal(event.data.guardrail, 'circuit_breaker');
  assert.equal(event.data.variant, 'broken');
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('quantization decided: int8 kept or refused, with the report figures', async () => {
  const hook = await createWebhook({ url: receiver.url('/q'), events: ['quantization.decided'] });
  const upload = await server.request('POST', '/api/models/penguins/versions', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
  const version = ((await upload.json()) as { version: string }).version;
  const got = await until('quantization.decided', () => receiver.ofType('quantization.decided').map((r) => JSON.parse(r.body) as { data: Record<string, unknown> }).find((e) => e.data.version === version), 120_000);
  assert.equal(got.data.model, 'penguins');
  assert.ok(got.data.decision === 'int8' || got.data.decision === 'fp32');
  assert.equal(got.data.int8_kept, got.data.decision === 'int8');
  assert.equal(typeof got.data.speedup, 'number');
  assert.equal(typeof got.data.agreement, 'number');
  assert.ok(Array.isArray(got.data.reasons));
  const report = (await (await server.request('GET', `/api/models/penguins/versions/${version}/quantization`)).json()) as { report: { decision: string; speedup: number } };
  assert.equal(report.report.decision, got.data.decision, 'the event says what the stored report says');
  assert.equal(report.report.speedup, got.data.speedup);
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
});

test('a restart resumes pending deliveries: nothing is lost while the receiver or the server is down', async () => {
  const dataDir = await makeDataDir();
  const down = new Receiver();
  await down.listen();
  const port = down.port;
  await down.close(); // the receiver is down: connections are refused
  let first: TestServer | undefined = await startTestServer({ dataDir });
  await first.request('PUT', '/api/settings', { json: { webhook_retry_initial_seconds: 0.3, webhook_retry_max_seconds: 0.3, webhook_max_attempts: 50 } });
  const hook = (await (await first.request('POST', '/api/webhooks', { json: { url: `http://127.0.0.1:${port}/resume` } })).json()) as { id: string; secret: string };
  const sent = (await (await first.request('POST', `/api/webhooks/${hook.id}/test`)).json()) as { delivery_id: string };
  const pending = await until('a failed first attempt', async () => {
    const log = ((await (await first!.request('GET', `/api/webhooks/${hook.id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries;
    return log.find((d) => d.id === sent.delivery_id && d.attempts >= 1);
  });
  assert.equal(pending.status, 'pending');
  assert.match(String(pending.last_error), /ECONNREFUSED/);
  await first.stop();
  first = undefined;

  const back = new Receiver();
  await back.listen(port);
  const second = await startTestServer({ dataDir });
  try {
    const got = await until('the resumed delivery', () => back.received.find((r) => r.headers['inferbox-delivery'] === sent.delivery_id));
    assert.ok(verify(hook.secret, String(got.headers['inferbox-signature']), got.body));
    const log = await until('delivered after restart', async () => ((await (await second.request('GET', `/api/webhooks/${hook.id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries.find((d) => d.status === 'delivered'));
    assert.ok(log.attempts >= 2);
  } finally {
    await second.cleanup();
    await back.close();
  }
});

test('the webhook API: update, unknown ids are 404, actions are audited', async () => {
  const hook = await createWebhook({ url: receiver.url('/api') });
  const updated = await server.request('PUT', `/api/webhooks/${hook.id}`, { json: { enabled: false, events: ['model.registered'] } });
  assert.deepEqual(((await updated.json()) as { enabled: boolean; events: string[] }).events, ['model.registered']);
  const publicUpdate = await server.request('PUT', `/api/webhooks/${hook.id}`, { json: { url: 'http://1.1.1.1/' } });
  assert.equal(publicUpdate.status, 400);
  for (const [method, path] of [['PUT', '/api/webhooks/wh_nope'], ['DELETE', '/api/webhooks/wh_nope'], ['POST', '/api/webhooks/wh_nope/test'], ['GET', '/api/webhooks/wh_nope/deliveries']] as const) {
    const response = await server.request(method, path, method === 'PUT' ? { json: { enabled: true } } : {});
    assert.equal(response.status, 404, `${method} ${path}`);
    assert.match(((await response.json()) as { error: string }).error, /webhook 'wh_nope' not found/);
  }
  assert.equal((await server.request('DELETE', `/api/webhooks/${hook.id}`)).status, 200);
  const audit = (await (await server.request('GET', '/api/audit')).json()) as { entries: { action: string; target: string }[] };
  for (const action of ['webhook.create', 'webhook.update', 'webhook.delete']) assert.ok(audit.entries.some((e) => e.action === action && e.target === hook.id), action);
});
