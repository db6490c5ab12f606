/**
 * The inference routes are served on node:http, outside Koa's middleware (dispatchRequests): every
 * one of them, as the route table lists them, must still answer with what the Koa stack sends on
 * every other answer (security headers, request id, no-store under /api/) and with what an
 * inference answer adds (trace context, the experiment's variant, Server-Timing, Retry-After on a
 * throttled request), on answers and errors alike, and the same with CORS configured (then every
 * request goes through Koa).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { allRoutes } from '../../../server/protocol/allRoutes.js';
import type { AppServices } from '../../../server/protocol/AppServices.js';
import { isInferenceRoute } from '../../../server/protocol/routeTable.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

const INFERENCE_ROUTES = allRoutes({} as AppServices).filter(isInferenceRoute);
const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

let server: TestServer;
let key: string;
let experimentId: string;

/** A valid body for the route: OIP tensors, or a row of named features for the prediction API. */
function bodyFor(path: string): unknown {
  if (path.startsWith('/api/predict/')) {
    const [beak_length_mm, beak_depth_mm, flipper_length_mm, body_mass_g] = GENTOO_FEATURES;
    return { rows: [{ beak_length_mm, beak_depth_mm, flipper_length_mm, body_mass_g }] };
  }
  return { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };
}

const urlOf = (path: string) => path.replace(':model', 'mlp').replace(':version', '1');

async function post(path: string, body: unknown, headers: Record<string, string> = {}, withKey = key): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${withKey}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The security headers a Koa route answers with (helmet's, computed by the same module). */
let koaSecurityHeaders: [string, string][];
const SECURITY = ['content-security-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'referrer-policy', 'x-content-type-options', 'x-dns-prefetch-control', 'x-download-options', 'x-frame-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];

before(async () => {
  server = await startTestServer();
  const created = await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } });
  key = ((await created.json()) as { key: string }).key;
  const v2 = await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(v2.status, 201);
  const experiment = await server.request('POST', '/api/experiments', { json: { name: 'headers', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: '2' }] } });
  experimentId = ((await experiment.json()) as { id: string }).id;
  assert.equal((await server.request('POST', `/api/experiments/${experimentId}/start`)).status, 200);
  const koa = await server.request('GET', '/v2', { key });
  koaSecurityHeaders = SECURITY.map((name) => [name, koa.headers.get(name) ?? '(missing)']);
  assert.ok(koaSecurityHeaders.every(([, value]) => value !== '(missing)'), JSON.stringify(koaSecurityHeaders));
});

after(() => server.cleanup());

function assertAnswerHeaders(answer: Response, path: string, what: string): void {
  for (const [name, value] of koaSecurityHeaders) assert.equal(answer.headers.get(name), value, `${what}: ${name} as on a Koa answer`);
  assert.equal(answer.headers.get('x-powered-by'), null, what);
  assert.equal(answer.headers.get('cache-control'), path.startsWith('/api/') ? 'no-store' : null, `${what}: no-store under /api/ only`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json; charset=utf-8$/, what);
}

test('the route table has the four inference routes, all POST with the infer rule', () => {
  assert.deepEqual(INFERENCE_ROUTES.map((r) => `${r.method} ${r.path} ${r.access}`), [
    'POST /v2/models/:model/infer infer',
    'POST /v2/models/:model/versions/:version/infer infer',
    'POST /api/predict/:model infer',
    'POST /api/predict/:model/versions/:version infer',
  ]);
});

for (const cors of [false, true]) {
  test(`every inference route, answer and error (${cors ? 'CORS configured: through Koa' : 'straight to the handler'}): security headers, request id, trace context, variant, Server-Timing`, async () => {
    await server.request('PUT', '/api/settings', { json: { cors_allowed_origins: cors ? ['https://app.example'] : [] } });
    for (const route of INFERENCE_ROUTES) {
      const path = urlOf(route.path);
      const versioned = route.path.includes(':version');
      const answer = await post(path, bodyFor(route.path), { 'x-request-id': 'caller-id-1', traceparent: `00-${CALLER_TRACE}-00f067aa0ba902b7-01`, 'x-unit-id': 'unit-7' });
      const what = `${route.path} 200`;
      assert.equal(answer.status, 200, `${what}: ${await answer.clone().text()}`);
      assertAnswerHeaders(answer, path, what);
      assert.equal(answer.headers.get('x-request-id'), 'caller-id-1', `${what}: the caller's request id`);
      assert.match(answer.headers.get('traceparent') ?? '', new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`), `${what}: the caller's trace continues`);
      assert.match(answer.headers.get('server-timing') ?? '', /^decode;dur=[\d.]+, queue;dur=[\d.]+, batch;dur=[\d.]+;desc="rows=\d+", infer;dur=[\d.]+, serialize;dur=[\d.]+, cache;desc="off"$/, what);
      if (versioned) assert.equal(answer.headers.get('inferbox-variant'), null, `${what}: a named version bypasses the experiment`);
      else assert.match(answer.headers.get('inferbox-variant') ?? '', new RegExp(`^${experimentId}/(control|candidate)$`), what);
      if (cors) assert.equal(answer.headers.get('vary'), 'Origin', `${what}: CORS answers vary by origin`);

      const refused = await post(path, '{"inputs": [', { traceparent: `00-${CALLER_TRACE}-00f067aa0ba902b7-01`, 'x-unit-id': 'unit-7' });
      const bad = `${route.path} 400`;
      assert.equal(refused.status, 400, bad);
      assertAnswerHeaders(refused, path, bad);
      assert.match(refused.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, `${bad}: a request id of the server's`);
      assert.match(refused.headers.get('traceparent') ?? '', new RegExp(`^00-${CALLER_TRACE}-`), `${bad}: trace context on errors too`);
      assert.equal(refused.headers.get('server-timing'), null, `${bad}: no stages ran`);
      assert.match(((await refused.json()) as { error: string }).error, /syntax error/, `${bad}: the OIP error shape`);

      const unauthenticated = await post(path, bodyFor(route.path), {}, 'ibx_000000000000_not-a-key');
      assert.equal(unauthenticated.status, 401, route.path);
      assertAnswerHeaders(unauthenticated, path, `${route.path} 401`);
      assert.equal(unauthenticated.headers.get('www-authenticate'), 'Bearer realm="inferbox"');
    }
    await server.request('PUT', '/api/settings', { json: { cors_allowed_origins: [] } });
  });
}

test('a key over its rate limit gets 429 with Retry-After on every inference route', async () => {
  const created = await server.request('POST', '/api/keys', { json: { name: 'slow app', scopes: ['infer'], rate_limit_per_second: 0.01, rate_limit_burst: 1 } });
  assert.equal(created.status, 201, await created.clone().text());
  const limited = ((await created.json()) as { key: string }).key;
  let first = true;
  for (const route of INFERENCE_ROUTES) {
    const path = urlOf(route.path);
    const answer = await post(path, bodyFor(route.path), {}, limited);
    if (first) {
      assert.equal(answer.status, 200, 'the burst lets one through');
      first = false;
      continue;
    }
    assert.equal(answer.status, 429, route.path);
    assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, `${route.path}: Retry-After in whole seconds`);
    assertAnswerHeaders(answer, path, `${route.path} 429`);
  }
  const again = await post(urlOf(INFERENCE_ROUTES[0]!.path), bodyFor(INFERENCE_ROUTES[0]!.path), {}, limited);
  assert.equal(again.status, 429);
});
