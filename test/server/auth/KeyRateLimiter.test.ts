import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyRateLimiter, resolveRateLimit } from '../../../server/auth/KeyRateLimiter.js';

/** A clock the test moves by hand (ms). */
const clock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
};

test('a bucket admits its burst at once, then one request per refill interval, and says how long to wait', () => {
  const time = clock();
  const limiter = new KeyRateLimiter(time.now);
  const limit = { perSecond: 2, burst: 3 };
  for (let i = 0; i < 3; i++) assert.equal(limiter.take('k', limit), 0, `request ${i + 1} of the burst`);
  assert.equal(limiter.take('k', limit), 0.5, 'empty: the next token is half a second away at 2/s');
  time.advance(250);
  assert.equal(limiter.take('k', limit), 0.25);
  time.advance(250);
  assert.equal(limiter.take('k', limit), 0, 'one token refilled');
  assert.ok(limiter.take('k', limit) > 0);
  time.advance(10_000);
  for (let i = 0; i < 3; i++) assert.equal(limiter.take('k', limit), 0, 'refills only up to the burst');
  assert.ok(limiter.take('k', limit) > 0);
});

test('keys have their own buckets; a rate of 0 is unlimited; a lower burst applies to the next request', () => {
  const time = clock();
  const limiter = new KeyRateLimiter(time.now);
  assert.equal(limiter.take('a', { perSecond: 1, burst: 1 }), 0);
  assert.ok(limiter.take('a', { perSecond: 1, burst: 1 }) > 0);
  assert.equal(limiter.take('b', { perSecond: 1, burst: 1 }), 0, 'another key is not affected');
  for (let i = 0; i < 1000; i++) assert.equal(limiter.take('c', { perSecond: 0, burst: 1 }), 0);
  for (let i = 0; i < 10; i++) limiter.take('d', { perSecond: 100, burst: 100 });
  time.advance(1000);
  assert.equal(limiter.take('d', { perSecond: 1, burst: 2 }), 0);
  assert.equal(limiter.take('d', { perSecond: 1, burst: 2 }), 0);
  assert.ok(limiter.take('d', { perSecond: 1, burst: 2 }) > 0, 'the bucket is clamped to the new burst');
});

test("a key's own fields win over the server default; null fields follow it", () => {
  const serverDefault = { perSecond: 5, burst: 50 };
  assert.deepEqual(resolveRateLimit({ perSecond: null, burst: null }, serverDefault), serverDefault);
  assert.deepEqual(resolveRateLimit({ perSecond: 0, burst: null }, serverDefault), { perSecond: 0, burst: 50 });
  assert.deepEqual(resolveRateLimit({ perSecond: 1, burst: 2 }, serverDefault), { perSecond: 1, burst: 2 });
});
