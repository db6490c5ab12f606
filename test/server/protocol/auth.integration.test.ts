import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AppServices } from '../../../server/protocol/AppServices.js';
import { allRoutes } from '../../../server/protocol/allRoutes.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  // These tests send hundreds of bad keys from 127.0.0.1 on purpose: the per-address back-off
  // (tested in abuseLimits.integration.test.ts) would answer them 429 before the key is checked.
  const raised = await server.request('PUT', '/api/settings', { json: { auth_failures_before_backoff: 100_000, auth_block_after_failures: 100_000 } });
  assert.equal(raised.status, 200, await raised.text());
});
after(() => server.cleanup());

const ROUTES = allRoutes({} as AppServices);
/** Route paths with their parameters filled in. */
const concrete = (path: string) => path.replace(':model', 'mlp').replace(':version', '1').replace(':id', 'nosuchkey000');
const inferBody = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const response = await server.request('POST', '/api/keys', { json: body });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: string; key: string };
}

describe('the route table', () => {
  test('every route declares an access rule; the public ones are exactly the health probes and the console\'s static files', () => {
    for (const route of ROUTES) assert.ok(['public', 'admin', 'infer', 'key', 'feedback', 'metrics', 'models:write'].includes(route.access), `${route.method} ${route.path}`);
    const publicRoutes = ROUTES.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`);
    // The console's files hold no data: the app signs in with a key and then calls the admin API.
    assert.deepEqual(publicRoutes.sort(), ['GET /', 'GET /assets/:file', 'GET /v2/health/live', 'GET /v2/health/ready']);
    assert.ok(ROUTES.filter((r) => r.path.startsWith('/api') && !r.path.startsWith('/api/jobs') && !r.path.startsWith('/api/predict/') && r.path !== '/api/feedback' && r.access !== 'models:write').every((r) => r.access === 'admin'), 'the admin API is admin-only');
    // Named-feature predictions (and reading a model's card) are inference: `infer` or `infer:<model>`.
    assert.ok(ROUTES.filter((r) => r.path.startsWith('/api/predict/')).every((r) => r.access === 'infer' && r.path.startsWith('/api/predict/:model')));
    // A training pipeline registers versions and reads models (issue 9); every other model action stays admin.
    assert.deepEqual(ROUTES.filter((r) => r.access === 'models:write').map((r) => `${r.method} ${r.path}`).sort(), ['GET /api/models/:model', 'GET /api/models/:model/versions/:version', 'POST /api/models/:model/versions']);
    // Business outcomes for A/B tests come from `infer` or `feedback` keys (a shop backend, a CRM).
    assert.deepEqual(ROUTES.filter((r) => r.access === 'feedback').map((r) => `${r.method} ${r.path}`), ['POST /api/feedback']);
    assert.deepEqual(ROUTES.filter((r) => r.access === 'metrics').map((r) => `${r.method} ${r.path}`), ['GET /metrics'], 'the metrics scope reaches Prometheus scraping only');
    // Async jobs check the model scope and the job's owner in the handler (test/server/jobs).
    assert.ok(ROUTES.filter((r) => r.path.startsWith('/api/jobs')).every((r) => r.access === 'key'));
  });

  test('OPTIONS maps the API only for a valid key', async () => {
    const anonymous = await server.request('OPTIONS', '/api/models', { key: null });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="inferbox"');
    assert.equal((await server.request('OPTIONS', '/api/models')).status, 200);
    assert.equal((await server.request('OPTIONS', '/v2/health/live', { key: null })).status, 200);
  });

  test('every non-public route answers 401 without a key and with a wrong one', async () => {
    for (const route of ROUTES.filter((r) => r.access !== 'public')) {
      for (const key of [null, 'ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'garbage']) {
        const response = await server.request(route.method, concrete(route.path), { key });
        assert.equal(response.status, 401, `${route.method} ${route.path} with ${key ?? 'no key'}`);
        assert.match(((await response.json()) as { error: string }).error, /API key/);
      }
    }
  });
});

describe('the key matrix', () => {
  test('an infer key can infer on every model but reaches no admin route (403)', async () => {
    const { key } = await createKey({ name: 'app', scopes: ['infer'] });
    assert.equal((await server.request('POST', '/v2/models/mlp/infer', { key, json: inferBody })).status, 200);
    assert.equal((await server.request('GET', '/v2/models/mlp', { key })).status, 200);
    for (const route of ROUTES.filter((r) => r.access === 'admin')) {
      const response = await server.request(route.method, concrete(route.path), { key });
      assert.equal(response.status, 403, `${route.method} ${route.path}`);
      assert.match(((await response.json()) as { error: string }).error, /does not have the 'admin' scope/);
    }
  });

  test('a model-scoped key reaches its model only', async () => {
    const { key } = await createKey({ name: 'crm', scopes: ['infer:mlp'] });
    assert.equal((await server.request('POST', '/v2/models/mlp/infer', { key, json: inferBody })).status, 200);
    assert.equal((await server.request('POST', '/v2/models/other/infer', { key, json: inferBody })).status, 403);
    assert.equal((await server.request('GET', '/v2', { key })).status, 403, 'server-wide routes need the plain infer scope');
  });

  test('a revoked key is refused on the next request', async () => {
    const { id, key } = await createKey({ name: 'leaving', scopes: ['infer'] });
    assert.equal((await server.request('POST', '/v2/models/mlp/infer', { key, json: inferBody })).status, 200);
    assert.equal((await server.request('DELETE', `/api/keys/${id}`)).status, 200);
    const refused = await server.request('POST', '/v2/models/mlp/infer', { key, json: inferBody });
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { error: string }).error, /revoked/);
    assert.equal((await server.request('DELETE', '/api/keys/nosuchkey000')).status, 404);
  });

  test('an expired key is refused', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const { key } = await createKey({ name: 'short', scopes: ['infer'], expires_at: expiresAt });
    assert.equal((await server.request('GET', '/v2/models/mlp', { key })).status, 200);
    while (Date.now() <= Date.parse(expiresAt)) await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await server.request('GET', '/v2/models/mlp', { key });
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { error: string }).error, /expired/);
  });

  test('key creation is validated; listing never shows secrets or hashes', async () => {
    for (const body of [{}, { name: 'x', scopes: [] }, { name: 'x', scopes: ['root'] }, { name: 'x', scopes: ['infer'], expires_at: 'tomorrow' }, { name: 'x', scopes: ['infer'], expires_at: '2000-01-01T00:00:00Z' }]) {
      assert.equal((await server.request('POST', '/api/keys', { json: body })).status, 400, JSON.stringify(body));
    }
    const listing = await (await server.request('GET', '/api/keys')).text();
    assert.doesNotMatch(listing, /key_hash|ibx_[a-z0-9]{12}_/);
    const keys = (JSON.parse(listing) as { keys: { name: string; scopes: string[]; revoked_at: string | null }[] }).keys;
    assert.ok(keys.some((k) => k.name === 'admin' && k.scopes.includes('admin')));
    assert.ok(keys.some((k) => k.name === 'leaving' && k.revoked_at !== null));
  });

  test('key actions are audited', async () => {
    const entries = ((await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: { action: string }[] }).entries;
    assert.ok(entries.filter((e) => e.action === 'key.create').length >= 4);
    assert.ok(entries.some((e) => e.action === 'key.revoke'));
  });
});
