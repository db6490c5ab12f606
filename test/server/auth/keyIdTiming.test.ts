import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApiKeyService } from '../../../server/auth/ApiKeyService.js';
import { authenticateCaller, type CallerAccess } from '../../../server/auth/authenticateCaller.js';
import { FailedAuthThrottle } from '../../../server/auth/FailedAuthThrottle.js';
import { KeyRateLimiter } from '../../../server/auth/KeyRateLimiter.js';
import type { ApiKeyRepository } from '../../../server/store/ApiKeyRepository.js';
import { Store } from '../../../server/store/Store.js';

/**
 * Issue 17, item 6: whether a key id exists must not show in how long a refusal takes (an unknown
 * id was 30-58 µs slower: a SQLite lookup on a cache miss). Real SQLite file, in-process timing of
 * the authentication step every request goes through (the address never backs off here, and its
 * failures cost the same either way).
 */
const dir = await mkdtemp(join(tmpdir(), 'inferbox-key-timing-'));
const store = Store.open(join(dir, 'keys.db'));
after(async () => { store.close(); await rm(dir, { recursive: true, force: true }); });

/** The repository as the service sees it, noting every call but the periodic check for other processes' commits. */
function countingRepository(repository: ApiKeyRepository, calls: string[]): ApiKeyRepository {
  return new Proxy(repository, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property !== 'externalChanges') calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const TRIES = 10_000;
const secret = () => randomBytes(32).toString('base64url');
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;

test('a well-formed key with an unknown id is refused as fast as one with a known id and a wrong secret, without a database lookup', (t) => {
  const calls: string[] = [];
  const keys = new ApiKeyService(countingRepository(store.keys, calls));
  const ids = Array.from({ length: 50 }, (_, i) => keys.createApiKey({ name: `app ${i}`, scopes: ['infer'] }).row.id);
  const knownId = ids[25]!;
  const never = Number.MAX_SAFE_INTEGER;
  const access: CallerAccess = {
    keys,
    failedAuth: new FailedAuthThrottle(() => ({ failuresBeforeBackoff: never, backoffInitialSeconds: 1, backoffMaxSeconds: 1, blockAfterFailures: never, blockSeconds: 1, halfLifeSeconds: 3600 }), () => {}),
    rateLimiter: new KeyRateLimiter(),
    settings: { current: { key_rate_limit_per_second: 0, key_rate_limit_burst: 50 } },
    metrics: { countThrottled: () => {} },
  };
  const refusalOf = (key: string): { ns: number; message: string } => {
    const start = process.hrtime.bigint();
    try {
      authenticateCaller({ token: key, address: '192.0.2.1' }, access);
    } catch (error) {
      return { ns: Number(process.hrtime.bigint() - start), message: (error as Error).message };
    }
    throw new Error(`${key} was accepted`);
  };
  const known = () => `ibx_${knownId}_${secret()}`;
  const unknown = () => `ibx_${randomBytes(6).toString('hex')}_${secret()}`;

  for (let i = 0; i < 2000; i++) { refusalOf(known()); refusalOf(unknown()); } // warm-up: JIT, caches
  calls.length = 0;
  // A noisy shared machine can disturb one round; a real difference (tens of µs) shows in every round.
  const differences: number[] = [];
  for (let round = 0; round < 3 && !differences.some((d) => Math.abs(d) < 5000); round++) {
    const knownKeys = Array.from({ length: TRIES }, known);
    const unknownKeys = Array.from({ length: TRIES }, unknown);
    const knownNs: number[] = [];
    const unknownNs: number[] = [];
    for (let i = 0; i < TRIES; i++) {
      // Interleaved, alternating which goes first, so drift in the machine's load hits both alike.
      const [first, second] = i % 2 === 0 ? [knownKeys[i]!, unknownKeys[i]!] : [unknownKeys[i]!, knownKeys[i]!];
      const a = refusalOf(first);
      const b = refusalOf(second);
      const [k, u] = i % 2 === 0 ? [a, b] : [b, a];
      assert.equal(u.message, k.message, 'the same refusal either way');
      knownNs.push(k.ns);
      unknownNs.push(u.ns);
    }
    differences.push(median(unknownNs) - median(knownNs));
  }
  const report = `median unknown - known id: ${differences.map((d) => `${(d / 1000).toFixed(2)} µs`).join(', ')} (limit 5 µs)`;
  t.diagnostic(report);
  assert.ok(differences.some((d) => Math.abs(d) < 5000), report);
  assert.deepEqual(calls, [], 'no database lookup for any refusal, known id or not');
});
