import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { requestFrom } from '../../helpers/requestFrom.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

/**
 * Abuse limits on a real server (127.0.0.1, real SQLite and onnxruntime): per-key rate limits,
 * failed-authentication back-off and blocks per client address, strict CORS. Windows are made
 * short through the settings API; nothing here asserts a speed.
 */
let server: TestServer;
let adminId: string;
before(async () => {
  server = await startTestServer();
  const keys = ((await (await server.request('GET', '/api/keys')).json()) as { keys: { id: string; name: string }[] }).keys;
  adminId = keys.find((k) => k.name === 'admin')!.id;
});
after(() => server.cleanup());

const inferBody = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };
const BAD_KEY = 'ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function settings(values: Record<string, unknown>): Promise<void> {
  const response = await server.request('PUT', '/api/settings', { json: values });
  assert.equal(response.status, 200, await response.text());
}

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string; rate_limit_per_second: number | null; rate_limit_burst: number | null }> {
  const response = await server.request('POST', '/api/keys', { json: body });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: string; key: string; rate_limit_per_second: number | null; rate_limit_burst: number | null };
}

const infer = (key: string) => server.request('POST', '/v2/models/mlp/infer', { key, json: inferBody });

async function throttledCount(reason: string): Promise<number> {
  const metric = (await server.running.metrics.registry.getSingleMetric('inferbox_throttled_requests_total')!.get()).values;
  return metric.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function auditOf(action: string): Promise<{ action: string; target: string; actor_name: string; remote_addr: string; details: Record<string, unknown> }[]> {
  const body = (await (await server.request('GET', `/api/audit?action=${action}&limit=1000`)).json()) as { entries: { action: string; target: string; actor_name: string; remote_addr: string; details: Record<string, unknown> }[] };
  return body.entries;
}

describe('per-key rate limits', () => {
  test('a key with its own limit gets its burst, then 429 with Retry-After, and recovers after the refill time', async () => {
    const before429 = await throttledCount('key_rate_limit');
    const { id, key, rate_limit_per_second, rate_limit_burst } = await createKey({ name: 'limited', scopes: ['infer'], rate_limit_per_second: 2, rate_limit_burst: 3 });
    assert.deepEqual([rate_limit_per_second, rate_limit_burst], [2, 3]);
    for (let i = 0; i < 3; i++) assert.equal((await infer(key)).status, 200, `request ${i + 1} of the burst`);
    const refused = await infer(key);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1', 'half a second to the next token, rounded up to whole seconds');
    assert.match(((await refused.json()) as { error: string }).error, /the key 'limited' is over its rate limit of 2 requests\/s \(burst 3\)/);
    await sleep(600);
    assert.equal((await infer(key)).status, 200, 'one token refilled after 1/rate seconds');
    assert.equal((await infer(key)).status, 429);
    assert.equal(await throttledCount('key_rate_limit'), before429 + 2, 'every 429 is counted in the metrics');

    // The request log has the refused inferences, with the key (rows are written every 500 ms).
    type LogRows = { logs: { status: number; key_id: string; model: string; error: string | null }[] };
    let logs: LogRows = { logs: [] };
    for (let tries = 0; tries < 50 && logs.logs.length < 6; tries++) {
      await sleep(100);
      logs = (await (await server.request('GET', `/api/logs?key_id=${id}&limit=100`)).json()) as LogRows;
    }
    assert.deepEqual(logs.logs.map((l) => l.status).sort(), [200, 200, 200, 200, 429, 429]);
    assert.ok(logs.logs.filter((l) => l.status === 429).every((l) => l.key_id === id && l.model === 'mlp' && /rate limit/.test(l.error ?? '')));
  });

  test('the server default applies to keys without their own limit (the admin key too); a per-key limit overrides it, 0 = unlimited', async () => {
    // The admin key first gets its own unlimited rate, as the docs advise before a low default.
    const unlimitedAdmin = await server.request('PUT', `/api/keys/${adminId}/rate-limit`, { json: { rate_limit_per_second: 0 } });
    assert.equal(unlimitedAdmin.status, 200, await unlimitedAdmin.clone().text());
    assert.equal(((await unlimitedAdmin.json()) as { rate_limit_per_second: number }).rate_limit_per_second, 0);
    const plain = await createKey({ name: 'plain', scopes: ['infer'] });
    const unlimited = await createKey({ name: 'unlimited', scopes: ['infer'], rate_limit_per_second: 0 });
    const ownBurst = await createKey({ name: 'own-burst', scopes: ['infer'], rate_limit_burst: 4 });
    for (let i = 0; i < 5; i++) assert.equal((await infer(plain.key)).status, 200, 'no default limit: unlimited');
    await settings({ key_rate_limit_per_second: 1, key_rate_limit_burst: 2 });
    try {
      assert.deepEqual([(await infer(plain.key)).status, (await infer(plain.key)).status, (await infer(plain.key)).status], [200, 200, 429], 'the default now applies');
      for (let i = 0; i < 6; i++) assert.equal((await infer(unlimited.key)).status, 200, 'the key says unlimited');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await infer(ownBurst.key)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429], 'its own burst with the default rate');
      for (let i = 0; i < 5; i++) assert.equal((await server.request('GET', '/api/keys')).status, 200, 'the admin key is unlimited');
      // Changing a key's limit applies to its next request.
      const changed = await server.request('PUT', `/api/keys/${plain.id}/rate-limit`, { json: { rate_limit_per_second: 0, rate_limit_burst: null } });
      assert.equal(changed.status, 200);
      assert.equal((await infer(plain.key)).status, 200);
    } finally {
      await settings({ key_rate_limit_per_second: null, key_rate_limit_burst: null });
    }
  });

  test('rate limits are validated and audited; an unknown key is 404', async () => {
    for (const body of [{ rate_limit_per_second: -1 }, { rate_limit_burst: 0 }, { rate_limit_burst: 1.5 }, { rate_limit_per_second: 'fast' }, { other: 1 }]) {
      assert.equal((await server.request('PUT', `/api/keys/${adminId}/rate-limit`, { json: body })).status, 400, JSON.stringify(body));
      assert.equal((await server.request('POST', '/api/keys', { json: { name: 'x', scopes: ['infer'], ...body } })).status, 400, JSON.stringify(body));
    }
    assert.equal((await server.request('PUT', '/api/keys/nosuchkey000/rate-limit', { json: { rate_limit_per_second: 1 } })).status, 404);
    const entries = await auditOf('key.rate_limit');
    assert.ok(entries.some((e) => e.target === adminId && e.details.rate_limit_per_second === 0 && e.actor_name === 'admin'));
  });
});

describe('failed-authentication throttling per client address', () => {
  before(() => settings({ auth_failures_before_backoff: 3, auth_backoff_initial_seconds: 1, auth_backoff_max_seconds: 4, auth_block_after_failures: 8, auth_block_seconds: 2 }));
  after(() => settings({ auth_failures_before_backoff: null, auth_backoff_initial_seconds: null, auth_backoff_max_seconds: null, auth_block_after_failures: null, auth_block_seconds: null }));

  const from = (address: string, key: string | null, path = '/api/system') =>
    requestFrom(address, `${server.baseUrl}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const inferFrom = (address: string, key: string) =>
    requestFrom(address, `${server.baseUrl}/v2/models/mlp/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(inferBody) });

  test('failures from one address lead to a growing back-off, then a block of its failing requests; it ends on time', async () => {
    const attacker = '127.0.0.2';
    const statuses = [];
    for (const key of [null, BAD_KEY, 'garbage']) statuses.push((await from(attacker, key)).status);
    assert.deepEqual(statuses, [401, 401, 401], 'missing, unknown and malformed keys all count; the first few are only refused');
    const waits: string[] = [];
    let last = await from(attacker, BAD_KEY);
    while (last.status === 429 && JSON.parse(last.body).error.includes('paused')) {
      waits.push(String(last.headers['retry-after']));
      last = await from(attacker, BAD_KEY);
    }
    assert.deepEqual(waits, ['2', '4', '4', '4'], 'each retry that ignores Retry-After doubles the wait, up to the maximum');
    assert.equal(last.status, 429);
    assert.equal(last.headers['retry-after'], '2');
    assert.match(JSON.parse(last.body).error, /too many failed authentication attempts from 127\.0\.0\.2: the address is blocked/);
    assert.equal((await from(attacker, server.adminKey)).status, 200, 'a valid key from a blocked address is served');
    assert.equal((await from(attacker, BAD_KEY)).status, 429, 'and does not lift the block');
    assert.equal((await server.request('GET', '/api/system')).status, 200, 'other addresses are not affected');

    const listed = (await (await server.request('GET', '/api/security/blocked-addresses')).json()) as { addresses: { address: string; state: string; failures: number }[] };
    assert.deepEqual(listed.addresses.filter((a) => a.address === attacker).map((a) => a.state), ['blocked']);
    const backoffs = (await auditOf('security.auth_backoff')).filter((e) => e.target === attacker);
    const blocks = (await auditOf('security.auth_block')).filter((e) => e.target === attacker);
    assert.equal(backoffs.length, 1, 'one audit row for the back-off, not one per attempt');
    assert.equal(blocks.length, 1, 'one for the block');
    assert.deepEqual([blocks[0]!.actor_name, blocks[0]!.remote_addr, blocks[0]!.details.seconds], ['system', attacker, 2]);
    assert.ok((await throttledCount('auth_blocked')) >= 1);
    assert.ok((await throttledCount('auth_backoff')) >= 4);

    await sleep(2100);
    assert.equal((await from(attacker, BAD_KEY)).status, 401, 'the block has ended: a wrong key is refused as such again');
  });

  test('a client that waits out its back-off gets its key checked again, and the next wait is longer', async () => {
    const client = '127.0.0.3';
    for (let i = 0; i < 3; i++) assert.equal((await from(client, BAD_KEY)).status, 401);
    assert.equal((await from(client, server.adminKey)).status, 200, 'during the wait a valid key is served, and does not count');
    const paused = await from(client, BAD_KEY);
    assert.equal(paused.status, 429, 'a wrong key during the wait is refused, and counts');
    await sleep(Number(paused.headers['retry-after']) * 1000 + 100);
    assert.equal((await from(client, BAD_KEY)).status, 401, 'after the wait the key is checked');
    const longer = await from(client, BAD_KEY);
    assert.equal(longer.status, 429);
    assert.ok(Number(longer.headers['retry-after']) > Number(paused.headers['retry-after']), `${longer.headers['retry-after']} s after ${paused.headers['retry-after']} s`);
  });

  test('the admin sees blocked addresses and can unblock one early (audited); OPTIONS counts like any request', async () => {
    await settings({ auth_block_seconds: 600 });
    const victim = '127.0.0.4';
    for (let i = 0; i < 12; i++) await requestFrom(victim, `${server.baseUrl}/api/models`, { method: 'OPTIONS', headers: { authorization: `Bearer ${BAD_KEY}` } });
    assert.equal((await from(victim, BAD_KEY)).status, 429);
    const listed = (await (await server.request('GET', '/api/security/blocked-addresses')).json()) as { addresses: { address: string; state: string; until: string }[] };
    const entry = listed.addresses.find((a) => a.address === victim);
    assert.equal(entry?.state, 'blocked');
    assert.ok(Date.parse(entry.until) > Date.now() + 500_000, 'blocked for the configured 10 minutes');
    const unblocked = await server.request('DELETE', `/api/security/blocked-addresses/${victim}`);
    assert.equal(unblocked.status, 200);
    assert.ok((await auditOf('security.unblock')).some((e) => e.target === victim && e.actor_name === 'admin'));
    const again = await server.request('DELETE', `/api/security/blocked-addresses/${victim}`);
    assert.equal(again.status, 404);
    assert.match(((await again.json()) as { error: string }).error, /not waiting or blocked/);
    assert.equal((await from(victim, BAD_KEY)).status, 401, 'unblocked: a wrong key is refused as such again');
    assert.equal((await server.request('GET', '/api/security/blocked-addresses', { key: BAD_KEY })).status, 401, 'admin only');
  });

  test('one client retrying a revoked key backs off and is blocked, but valid keys from the same address are always served (issue 17)', async () => {
    await settings({ auth_block_seconds: 600 });
    // A shared address: apps behind one NAT or reverse proxy, or the admin's console on loopback.
    const shared = '127.0.0.6';
    const cron = await createKey({ name: 'cron job', scopes: ['infer'] });
    const app = await createKey({ name: 'other app', scopes: ['infer'] });
    assert.equal((await server.request('DELETE', `/api/keys/${cron.id}`)).status, 200);
    const validFromShared = async (when: string) => {
      assert.equal((await inferFrom(shared, app.key)).status, 200, `inference with a valid key, ${when}`);
      assert.equal((await from(shared, server.adminKey)).status, 200, `the admin (and the console's sign-in), ${when}`);
    };
    const states: string[] = [];
    let last = await inferFrom(shared, cron.key);
    for (let i = 0; i < 20 && !/blocked/.test(last.body); i++) {
      states.push(last.status === 401 ? 'refused' : /paused/.test(last.body) ? 'backoff' : String(last.status));
      await validFromShared(`after ${i + 1} failures`);
      last = await inferFrom(shared, cron.key);
    }
    assert.equal(last.status, 429, last.body);
    assert.match(JSON.parse(last.body).error, /too many failed authentication attempts from 127\.0\.0\.6: the address is blocked/);
    assert.deepEqual(states.slice(0, 4), ['refused', 'refused', 'refused', 'backoff'], 'the failing client backs off as before');
    await validFromShared('while the address is blocked');
    assert.equal((await inferFrom(shared, cron.key)).status, 429, 'the revoked key is still refused fast');
    assert.equal((await from(shared, BAD_KEY)).status, 429, 'so is any wrong key');

    const listed = (await (await server.request('GET', '/api/security/blocked-addresses')).json()) as { addresses: { address: string; state: string }[] };
    assert.deepEqual(listed.addresses.filter((a) => a.address === shared).map((a) => a.state), ['blocked'], 'valid requests do not lift the block');
    assert.equal((await auditOf('security.auth_backoff')).filter((e) => e.target === shared).length, 1);
    assert.equal((await auditOf('security.auth_block')).filter((e) => e.target === shared).length, 1);
    assert.equal((await server.request('DELETE', `/api/security/blocked-addresses/${shared}`)).status, 200);
  });
});

describe('strict CORS', () => {
  const APP = 'http://app.example:3000';
  const preflight = (origin: string, path = '/v2/models/mlp/infer') =>
    // Unauthenticated preflights count as failed authentications: from their own address.
    requestFrom('127.0.0.5', `${server.baseUrl}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,inference-header-content-length' },
    });

  test('no origin gets CORS headers by default; preflights are not answered', async () => {
    const answer = await server.request('GET', '/api/system', { headers: { origin: APP } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    const pre = await preflight(APP);
    assert.equal(pre.status, 401, 'an OPTIONS without a key is refused as before');
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
  });

  test('a listed origin gets a correct preflight and readable answers (errors too); unlisted origins and other paths get nothing', async () => {
    const refused = await server.request('PUT', '/api/settings', { json: { cors_allowed_origins: ['http://app.example:3000/'] } });
    assert.equal(refused.status, 400, 'an origin with a path is refused: only exact origins match');
    await settings({ cors_allowed_origins: [APP] });
    try {
      const pre = await preflight(APP);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], APP);
      assert.deepEqual(String(pre.headers['access-control-allow-methods']).split(','), ['GET', 'POST', 'PUT', 'DELETE']);
      assert.deepEqual(String(pre.headers['access-control-allow-headers']).toLowerCase().split(','), ['authorization', 'content-type', 'inference-header-content-length', 'x-unit-id', 'traceparent', 'tracestate']);
      assert.equal(pre.headers['access-control-allow-credentials'], undefined, 'keys travel in Authorization, never cookies');
      assert.match(String(pre.headers.vary), /Origin/);

      const answer = await server.request('POST', '/v2/models/mlp/infer', { json: inferBody, headers: { origin: APP } });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('access-control-allow-origin'), APP);
      assert.match(answer.headers.get('access-control-expose-headers') ?? '', /Server-Timing/);
      assert.match(answer.headers.get('access-control-expose-headers') ?? '', /traceparent/, 'a browser app can read the trace id');
      const unauthorized = await server.request('GET', '/api/system', { key: null, headers: { origin: APP } });
      assert.equal(unauthorized.status, 401);
      assert.equal(unauthorized.headers.get('access-control-allow-origin'), APP, 'the app can read why it was refused');

      const other = await preflight('http://evil.example');
      assert.equal(other.status, 401);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      const otherAnswer = await server.request('GET', '/api/system', { headers: { origin: 'http://evil.example' } });
      assert.equal(otherAnswer.headers.get('access-control-allow-origin'), null);
      assert.equal((await server.request('GET', '/', { key: null, headers: { origin: APP } })).headers.get('access-control-allow-origin'), null, 'the console is never cross-origin');
    } finally {
      await settings({ cors_allowed_origins: null });
    }
  });
});
