import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allRoutes } from '../../../server/protocol/allRoutes.js';
import type { AppServices } from '../../../server/protocol/AppServices.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

/**
 * The authorization matrix: every route the server mounts (the same `allRoutes` list createApp
 * mounts) × every kind of caller, against a real server, checked against the table below. Building
 * the list declares routes only (no handler runs), so it needs no services.
 */
const ROUTES = allRoutes({} as AppServices);
const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');

/** The callers: no key, and one real key per scope the API hands out. */
const CALLERS = ['none', 'infer', 'inferMlp', 'inferOther', 'feedback', 'metrics', 'modelsWrite', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
/** 'ok': past authorization (any status but 401/403; a 400/404/409 from the handler is fine). */
type Outcome = 'ok' | 401 | 403;
type Expectation = Record<Caller, Outcome>;

const PUBLIC: Expectation = { none: 'ok', infer: 'ok', inferMlp: 'ok', inferOther: 'ok', feedback: 'ok', metrics: 'ok', modelsWrite: 'ok', admin: 'ok' };
const ADMIN: Expectation = { none: 401, infer: 403, inferMlp: 403, inferOther: 403, feedback: 403, metrics: 403, modelsWrite: 403, admin: 'ok' };
/** A route that names the model in its path: `infer`, `infer:<that model>` or admin. */
const INFER_MODEL: Expectation = { none: 401, infer: 'ok', inferMlp: 'ok', inferOther: 403, feedback: 403, metrics: 403, modelsWrite: 403, admin: 'ok' };
/** Server-wide inference metadata: a model-scoped key may not list what else is served. */
const INFER_SERVER: Expectation = { none: 401, infer: 'ok', inferMlp: 403, inferOther: 403, feedback: 403, metrics: 403, modelsWrite: 403, admin: 'ok' };
/** Any valid key; the handler narrows (jobs: the key's own jobs, infer rights on the job's model). */
const ANY_KEY: Expectation = { none: 401, infer: 'ok', inferMlp: 'ok', inferOther: 'ok', feedback: 'ok', metrics: 'ok', modelsWrite: 'ok', admin: 'ok' };
/** Business outcomes: infer, infer:<model> (its own model's experiments, checked by the handler) or feedback. */
const FEEDBACK: Expectation = { none: 401, infer: 'ok', inferMlp: 'ok', inferOther: 'ok', feedback: 'ok', metrics: 403, modelsWrite: 403, admin: 'ok' };
/** Prometheus scraping: the `metrics` scope or admin (keyless loopback only when the setting is on; off here). */
const METRICS: Expectation = { none: 401, infer: 403, inferMlp: 403, inferOther: 403, feedback: 403, metrics: 'ok', modelsWrite: 403, admin: 'ok' };
/** A training pipeline (`models:write`) or admin: register versions, read models and versions. */
const MODELS_WRITE: Expectation = { none: 401, infer: 403, inferMlp: 403, inferOther: 403, feedback: 403, metrics: 403, modelsWrite: 'ok', admin: 'ok' };


/**
 * Who may call what, written out route by route so a change of access is a visible change here.
 * Path parameters are filled with real entities: model mlp version 1 (the bundled model), an
 * experiment, an async job, an API key.
 */
const EXPECTED: Record<string, Expectation> = {
  'GET /v2/health/live': PUBLIC,
  'GET /v2/health/ready': PUBLIC,
  'GET /': PUBLIC,
  'GET /assets/:file': PUBLIC,

  'GET /v2': INFER_SERVER,
  'GET /v2/models/:model': INFER_MODEL,
  'GET /v2/models/:model/versions/:version': INFER_MODEL,
  'GET /v2/models/:model/ready': INFER_MODEL,
  'GET /v2/models/:model/versions/:version/ready': INFER_MODEL,
  'POST /v2/models/:model/infer': INFER_MODEL,
  'POST /v2/models/:model/versions/:version/infer': INFER_MODEL,
  'POST /api/predict/:model': INFER_MODEL,
  'POST /api/predict/:model/versions/:version': INFER_MODEL,
  'GET /api/predict/:model/card': INFER_MODEL,

  'GET /api/models': ADMIN,
  'GET /api/models/:model': MODELS_WRITE,
  'POST /api/models/:model/versions': MODELS_WRITE,
  'GET /api/models/:model/versions/:version': MODELS_WRITE,
  'GET /api/models/:model/versions/:version/export': ADMIN,
  'DELETE /api/models/:model/versions/:version': ADMIN,
  'POST /api/models/:model/versions/:version/activate': ADMIN,
  'POST /api/models/:model/versions/:version/load': ADMIN,
  'POST /api/models/:model/versions/:version/unload': ADMIN,
  'PUT /api/models/:model/cache': ADMIN,
  'GET /api/models/:model/settings': ADMIN,
  'PUT /api/models/:model/settings': ADMIN,
  'GET /api/models/:model/versions/:version/quantization': ADMIN,
  'POST /api/models/:model/versions/:version/quantization': ADMIN,
  'GET /api/models/:model/versions/:version/placement': ADMIN,
  'POST /api/models/:model/versions/:version/placement': ADMIN,
  'GET /api/models/:model/versions/:version/tuning': ADMIN,
  'GET /api/capacity': ADMIN,
  'GET /api/models/:model/versions/:version/tuning/result': ADMIN,
  'POST /api/models/:model/versions/:version/tuning': ADMIN,
  'DELETE /api/models/:model/versions/:version/tuning': ADMIN,
  'POST /api/models/:model/versions/:version/tuning/apply': ADMIN,
  'POST /api/models/:model/versions/:version/tuning/revert': ADMIN,
  'PUT /api/models/:model/versions/:version/precision': ADMIN,
  'GET /api/models/:model/samples': ADMIN,
  'POST /api/models/:model/samples': ADMIN,
  'PUT /api/models/:model/samples/recording': ADMIN,
  'DELETE /api/models/:model/samples': ADMIN,
  'GET /api/models/:model/card': ADMIN,
  'GET /api/models/:model/card/inferred': ADMIN,
  'PUT /api/models/:model/card': ADMIN,
  'DELETE /api/models/:model/card': ADMIN,
  'GET /api/models/:model/versions/:version/card': ADMIN,
  'PUT /api/models/:model/versions/:version/card': ADMIN,
  'DELETE /api/models/:model/versions/:version/card': ADMIN,

  'GET /api/experiments': ADMIN,
  'POST /api/experiments': ADMIN,
  'GET /api/experiments/:id': ADMIN,
  'PUT /api/experiments/:id': ADMIN,
  'DELETE /api/experiments/:id': ADMIN,
  'POST /api/experiments/:id/start': ADMIN,
  'POST /api/experiments/:id/pause': ADMIN,
  'POST /api/experiments/:id/resume': ADMIN,
  'POST /api/experiments/:id/stop': ADMIN,
  'PUT /api/experiments/:id/flag': ADMIN,
  'POST /api/experiments/:id/promote': ADMIN,
  'GET /api/experiments/:id/results': ADMIN,
  'POST /api/feedback': FEEDBACK,

  'POST /api/jobs': ANY_KEY,
  'GET /api/jobs': ANY_KEY,
  'GET /api/jobs/:id': ANY_KEY,
  'GET /api/jobs/:id/results': ANY_KEY,
  'POST /api/jobs/:id/cancel': ANY_KEY,
  'DELETE /api/jobs/:id': ANY_KEY,

  'GET /api/keys': ADMIN,
  'POST /api/keys': ADMIN,
  'PUT /api/keys/:id/rate-limit': ADMIN,
  'DELETE /api/keys/:id': ADMIN,
  'GET /api/security/blocked-addresses': ADMIN,
  'DELETE /api/security/blocked-addresses/:address': ADMIN,
  'GET /api/payloads': ADMIN,
  'GET /api/payloads/export': ADMIN,
  'DELETE /api/payloads': ADMIN,
  'GET /api/tls': ADMIN,
  'GET /api/tls/certificate': ADMIN,
  'PUT /api/tls/certificate': ADMIN,
  'POST /api/tls/regenerate': ADMIN,
  'POST /api/backup': ADMIN,
  'GET /api/backups': ADMIN,
  'GET /api/backups/:name': ADMIN,
  'GET /api/webhooks': ADMIN,
  'POST /api/webhooks': ADMIN,
  'PUT /api/webhooks/:id': ADMIN,
  'DELETE /api/webhooks/:id': ADMIN,
  'POST /api/webhooks/:id/test': ADMIN,
  'GET /api/webhooks/:id/deliveries': ADMIN,
  'GET /api/setup': ADMIN,
  'POST /api/setup/complete': ADMIN,
  'GET /api/logs': ADMIN,
  'GET /api/audit': ADMIN,
  'GET /api/system': ADMIN,
  'GET /api/metrics/summary': ADMIN,
  'GET /api/metrics/history': ADMIN,
  'GET /metrics': METRICS,
  'GET /api/settings': ADMIN,
  'PUT /api/settings': ADMIN,
};

const routeId = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

let server: TestServer;
const keys = {} as Record<Caller, string | null>;
const entities = { experiment: '', job: '', key: '', asset: '', webhook: '' };

async function created<T>(response: Response): Promise<T> {
  assert.ok(response.status === 201 || response.status === 202, `${response.url}: ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as T;
}

before(async () => {
  server = await startTestServer();
  // The matrix sends hundreds of refused requests from 127.0.0.1 on purpose: the failed-auth
  // back-off (tested in abuseLimits) must not turn its 401s into 429s.
  assert.equal((await server.request('PUT', '/api/settings', { json: { auth_failures_before_backoff: 100_000, auth_block_after_failures: 100_000 } })).status, 200);
  const newKey = async (scopes: string[]) => (await created<{ key: string }>(await server.request('POST', '/api/keys', { json: { name: scopes.join('+'), scopes } }))).key;
  Object.assign(keys, { none: null, infer: await newKey(['infer']), inferMlp: await newKey(['infer:mlp']), inferOther: await newKey(['infer:other']), feedback: await newKey(['feedback']), metrics: await newKey(['metrics']), modelsWrite: await newKey(['models:write']), admin: server.adminKey });
  entities.key = (await created<{ id: string }>(await server.request('POST', '/api/keys', { json: { name: 'to-revoke', scopes: ['infer'] } }))).id;
  // A second version of mlp, so the experiment has two variants (the matrix never deletes v1 before the end).
  const upload = await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
  const v2 = (await created<{ version: string }>(upload)).version;
  entities.experiment = (await created<{ id: string }>(await server.request('POST', '/api/experiments', { json: { name: 'matrix', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }] } }))).id;
  const jobBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });
  entities.job = (await created<{ id: string }>(await server.request('POST', '/api/jobs?model=mlp', { body: `${jobBody}\n`, headers: { 'content-type': 'application/x-ndjson' } }))).id;
  entities.webhook = (await created<{ id: string }>(await server.request('POST', '/api/webhooks', { json: { url: 'http://127.0.0.1:9/matrix', enabled: false } }))).id;
  const html = await (await server.request('GET', '/', { key: null })).text();
  entities.asset = /\/assets\/([\w.-]+)/.exec(html)![1]!;
});
after(() => server.cleanup());

function concrete(path: string): string {
  const id = path.startsWith('/api/experiments') ? entities.experiment : path.startsWith('/api/jobs') ? entities.job : path.startsWith('/api/webhooks') ? entities.webhook : entities.key;
  return path.replace(':model', 'mlp').replace(':version', '1').replace(':id', id).replace(':file', entities.asset).replace(':address', '192.0.2.1');
}

function outcomeOf(status: number): Outcome {
  return status === 401 || status === 403 ? status : 'ok';
}

/**
 * Requests that change or remove what later requests use (deletions, revocations) run last, and
 * the admin runs after every other caller, so each request meets the entities it was meant for.
 */
function plan(): { method: string; path: string; caller: Caller; expected: Outcome; id: string }[] {
  const runs = ROUTES.flatMap((route) => {
    const expectation = EXPECTED[routeId(route)];
    assert.ok(expectation, `${routeId(route)} has no entry in EXPECTED (${import.meta.filename}): add one saying who may call it`);
    const methods = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
    return methods.flatMap((method) => CALLERS.map((caller) => ({ method, path: concrete(route.path), caller, expected: expectation[caller], id: routeId(route) })));
  });
  const rank = (run: { method: string; caller: Caller }) => (run.caller === 'admin' ? 2 : 0) + (run.method === 'DELETE' ? 1 : 0);
  return runs.sort((a, b) => rank(a) - rank(b));
}

test('every mounted route has an entry in the expectations table (and every entry is a route)', () => {
  const missing = ROUTES.map(routeId).filter((id) => !(id in EXPECTED));
  assert.deepEqual(missing, [], `add these routes to EXPECTED in ${import.meta.filename} with who may call them: ${missing.join(', ')}`);
  const stale = Object.keys(EXPECTED).filter((id) => !ROUTES.some((route) => routeId(route) === id));
  assert.deepEqual(stale, [], `these entries name no mounted route; remove them: ${stale.join(', ')}`);
  assert.equal(new Set(ROUTES.map(routeId)).size, ROUTES.length, 'no route is declared twice');
});

test('every route × every caller (GET also as HEAD): 401 without a key, 403 without the scope, otherwise past the guard', async () => {
  const mismatches: string[] = [];
  let checked = 0;
  for (const run of plan()) {
    const response = await server.request(run.method, run.path, { key: keys[run.caller] });
    const body = run.method === 'HEAD' ? '' : await response.text();
    checked++;
    const actual = outcomeOf(response.status);
    if (actual !== run.expected) mismatches.push(`${run.method} ${run.path} (${run.id}) as ${run.caller}: expected ${run.expected}, got ${response.status} ${body.slice(0, 160)}`);
    // A refusal is the guard's (not a handler's 404 dressed up), in the OIP error shape.
    if (actual === 401 && run.method !== 'HEAD') assert.match(body, /"error":".*API key/, `${run.method} ${run.path}`);
    // The list and the app agree: every listed route is mounted (no 'no route for …', no 405).
    if (/no route for|is not allowed on/.test(body) || response.status === 405) mismatches.push(`${run.method} ${run.path} as ${run.caller}: not mounted (${response.status} ${body})`);
  }
  assert.deepEqual(mismatches, []);
  assert.equal(checked, ROUTES.reduce((n, r) => n + (r.method === 'GET' ? 2 : 1), 0) * CALLERS.length);
});

test('OPTIONS on every path: public paths for anyone, every other path only for a valid key', async () => {
  const paths = [...new Set(ROUTES.map((r) => r.path))];
  const mismatches: string[] = [];
  for (const path of paths) {
    const isPublic = ROUTES.some((r) => r.path === path && r.access === 'public');
    for (const caller of CALLERS) {
      const response = await server.request('OPTIONS', concrete(path), { key: keys[caller] });
      const expected = caller === 'none' && !isPublic ? 401 : 200;
      if (response.status !== expected) mismatches.push(`OPTIONS ${path} as ${caller}: expected ${expected}, got ${response.status}`);
      if (response.status === 200) {
        const allow = response.headers.get('allow') ?? '';
        for (const route of ROUTES.filter((r) => r.path === path)) if (!allow.includes(route.method)) mismatches.push(`OPTIONS ${path}: Allow '${allow}' lacks ${route.method}`);
      }
    }
  }
  assert.deepEqual(mismatches, []);
});
