import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { ApiKeyService, hashKey, keyStatus, type Principal } from '../../../server/auth/ApiKeyService.js';
import { allows } from '../../../server/auth/scopes.js';
import { Store } from '../../../server/store/Store.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-keys-'));
const store = Store.open(join(dir, 'keys.db'));
after(async () => { store.close(); await rm(dir, { recursive: true, force: true }); });

let clock = new Date('2026-06-01T00:00:00.000Z');
const keys = new ApiKeyService(store.keys, () => clock);

/** The principal, or the refusal's message thrown, as the 401 says it. */
function authenticate(key: string | undefined): Principal {
  const checked = keys.verify(key);
  if ('refused' in checked) throw new Error(checked.refused);
  return checked;
}

test('a created key authenticates, and only its SHA-256 hash is stored', () => {
  const { row, key } = keys.createApiKey({ name: 'crm', scopes: ['infer:mlp'] });
  assert.match(key, /^ibx_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  const stored = store.keys.findById(row.id)!;
  assert.equal(stored.key_hash, hashKey(key));
  assert.ok(!JSON.stringify(stored).includes(key.slice('ibx_'.length + 12 + 1)), 'the secret is not stored');
  assert.deepEqual(authenticate(key), { keyId: row.id, name: 'crm', scopes: ['infer:mlp'], rateLimit: { perSecond: null, burst: null } });
});

test("a key's own rate limit is stored, and a change applies to its next request despite the rows kept in memory", () => {
  const { row, key } = keys.createApiKey({ name: 'metered', scopes: ['infer'], rateLimit: { perSecond: 5, burst: 10 } });
  assert.deepEqual([row.rate_limit_per_second, row.rate_limit_burst], [5, 10]);
  assert.deepEqual(authenticate(key).rateLimit, { perSecond: 5, burst: 10 });
  const changed = keys.setRateLimit(row.id, { perSecond: 0, burst: null });
  assert.deepEqual([changed.rate_limit_per_second, changed.rate_limit_burst], [0, null]);
  assert.ok(!('key_hash' in changed));
  assert.deepEqual(authenticate(key).rateLimit, { perSecond: 0, burst: null });
  assert.throws(() => keys.setRateLimit('nosuchkey000', { perSecond: 1, burst: 1 }), /not found/);
});

test('missing, malformed, unknown and tampered keys are refused', () => {
  const { key } = keys.createApiKey({ name: 'x', scopes: ['infer'] });
  assert.throws(() => authenticate(undefined), /API key is required/);
  assert.throws(() => authenticate('nope'), /not valid/);
  assert.throws(() => authenticate(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`), /not valid/);
  assert.throws(() => authenticate(key.replace(/^ibx_[a-z0-9]{12}/, 'ibx_000000000000')), /not valid/);
});

test('revocation applies to the very next request', () => {
  const { row, key } = keys.createApiKey({ name: 'temp', scopes: ['infer'] });
  authenticate(key);
  keys.revoke(row.id);
  assert.throws(() => authenticate(key), /revoked/);
  assert.throws(() => keys.revoke('nosuchkey000'), /not found/);
});

test("another process's keys (the keys CLI on the same database) are seen within 100 ms: created, revoked", async () => {
  const other = Store.open(join(dir, 'keys.db'));
  try {
    const cli = new ApiKeyService(other.keys, () => clock);
    const { row, key } = cli.createApiKey({ name: 'from the cli', scopes: ['infer'] });
    await sleep(150);
    assert.equal(authenticate(key).keyId, row.id);
    cli.revoke(row.id);
    await sleep(150);
    assert.throws(() => authenticate(key), /revoked/);
  } finally {
    other.close();
  }
});

test('expiry is checked on every request', () => {
  const { key } = keys.createApiKey({ name: 'short', scopes: ['infer'], expiresAt: '2026-06-01T01:00:00.000Z' });
  authenticate(key);
  clock = new Date('2026-06-01T01:00:00.000Z');
  assert.throws(() => authenticate(key), /expired/);
});

test('last-used times are written in batches, not per request', () => {
  const { row, key } = keys.createApiKey({ name: 'busy', scopes: ['infer'] });
  authenticate(key);
  assert.equal(store.keys.findById(row.id)!.last_used_at, null);
  keys.flushLastUsed();
  assert.equal(store.keys.findById(row.id)!.last_used_at, clock.toISOString());
});

test('scopes: admin reaches everything, infer every model, infer:<m> only m', () => {
  assert.ok(allows(['admin'], { kind: 'admin' }));
  assert.ok(allows(['admin'], { kind: 'infer', model: 'a' }));
  assert.ok(!allows(['infer'], { kind: 'admin' }));
  assert.ok(allows(['infer'], { kind: 'infer', model: 'a' }));
  assert.ok(allows(['infer:a'], { kind: 'infer', model: 'a' }));
  assert.ok(!allows(['infer:a'], { kind: 'infer', model: 'b' }));
  assert.ok(!allows(['infer:a'], { kind: 'infer' }), 'a model-scoped key cannot reach routes that name no model');
});

test("a key's status (active, expired, revoked) follows the clock, in the list and every view of it", () => {
  const { row } = keys.createApiKey({ name: 'until summer', scopes: ['infer'], expiresAt: '2026-06-30T23:59:59.000Z' });
  const statusOf = () => keys.list().find((k) => k.id === row.id)!.status;
  assert.equal(keyStatus(row, clock), 'active');
  assert.equal(statusOf(), 'active');
  const saved = clock;
  try {
    clock = new Date('2026-07-01T00:00:00.000Z');
    assert.equal(statusOf(), 'expired');
    assert.equal(keys.setRateLimit(row.id, { perSecond: 1, burst: 1 }).status, 'expired');
    assert.equal(keys.viewOf(row).status, 'expired');
    keys.revoke(row.id);
    assert.equal(statusOf(), 'revoked', 'revoked wins over expired');
  } finally {
    clock = saved;
  }
  assert.ok(keys.list().every((k) => !('key_hash' in k)));
});
