import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailedAuthThrottle, type FailedAuthEvent, type FailedAuthSettings } from '../../../server/auth/FailedAuthThrottle.js';

const SETTINGS: FailedAuthSettings = { failuresBeforeBackoff: 3, backoffInitialSeconds: 1, backoffMaxSeconds: 8, blockAfterFailures: 10, blockSeconds: 60, halfLifeSeconds: 600 };

function setUp(settings: FailedAuthSettings = SETTINGS) {
  let now = 1_000_000;
  const events: FailedAuthEvent[] = [];
  const throttle = new FailedAuthThrottle(() => settings, (e) => events.push(e), () => now);
  const stateOf = (address: string) => throttle.list().find((a) => a.address === address)?.state ?? null;
  return { throttle, events, stateOf, advance: (ms: number) => { now += ms; } };
}

test('an address may fail a few times; then its failures wait, and the wait doubles with each failure after a wait', () => {
  const { throttle, events, stateOf, advance } = setUp();
  assert.equal(throttle.recordFailure('10.0.0.1'), null);
  assert.equal(throttle.recordFailure('10.0.0.1'), null);
  assert.equal(stateOf('10.0.0.1'), null, 'two failures: no wait');
  assert.equal(throttle.recordFailure('10.0.0.1'), null, 'the third failure is answered as a failure, and starts a 1 s wait');
  assert.deepEqual(throttle.recordFailure('10.0.0.1'), { state: 'backoff', retryAfterSeconds: 2 }, 'a failure during the wait is refused and counts, doubling it');
  assert.equal(stateOf('10.0.0.2'), null, 'other addresses are not affected');
  advance(2000);
  assert.equal(stateOf('10.0.0.1'), null, 'the wait is over');
  assert.equal(throttle.recordFailure('10.0.0.1'), null, 'after the wait a failure is answered as such again');
  assert.deepEqual(throttle.recordFailure('10.0.0.1')?.retryAfterSeconds, 8, 'a client that keeps failing waits longer each time (capped at the maximum)');
  assert.deepEqual(events.map((e) => e.kind), ['backoff'], 'one audit event for the whole back-off streak, not one per failure');
});

test('a client that ignores Retry-After is blocked; the block lasts its time and is reported once', () => {
  const { throttle, events, stateOf, advance } = setUp();
  for (let i = 0; i < 3; i++) throttle.recordFailure('10.0.0.9');
  let refusal = throttle.recordFailure('10.0.0.9');
  for (let i = 0; i < 20 && refusal?.state !== 'blocked'; i++) refusal = throttle.recordFailure('10.0.0.9');
  assert.deepEqual(refusal, { state: 'blocked', retryAfterSeconds: 60 });
  for (let i = 0; i < 100; i++) throttle.recordFailure('10.0.0.9');
  assert.equal(throttle.recordFailure('10.0.0.9')?.retryAfterSeconds, 60, 'failures during a block do not extend it');
  assert.deepEqual(events.map((e) => [e.kind, e.address]), [['backoff', '10.0.0.9'], ['block', '10.0.0.9']]);
  assert.deepEqual(throttle.list().map((a) => [a.address, a.state]), [['10.0.0.9', 'blocked']]);
  advance(60_000);
  assert.equal(stateOf('10.0.0.9'), null, 'the block ends on time');
  assert.deepEqual(throttle.list(), []);
  assert.equal(throttle.recordFailure('10.0.0.9'), null, 'the first failure after the block is answered as such');
  assert.equal(stateOf('10.0.0.9'), 'blocked', 'a repeat offender is remembered (10 min half-life, 1 min block): its next failure blocks it again');
});

test('failures decay with the half-life: a few typos a day never add up to a wait', () => {
  const { throttle, stateOf, advance } = setUp();
  for (let day = 0; day < 30; day++) {
    assert.equal(throttle.recordFailure('10.0.0.3'), null, `day ${day}`);
    assert.equal(throttle.recordFailure('10.0.0.3'), null, `day ${day}`);
    assert.equal(stateOf('10.0.0.3'), null, `day ${day}`);
    advance(3 * 600_000);
  }
});

test('the admin can unblock an address; unknown addresses are reported', () => {
  const { throttle, stateOf } = setUp();
  for (let i = 0; i < 10; i++) throttle.recordFailure('fd00::1');
  assert.equal(stateOf('fd00::1'), 'blocked');
  assert.equal(throttle.unblock('fd00::1'), true);
  assert.equal(stateOf('fd00::1'), null);
  assert.equal(throttle.recordFailure('fd00::1'), null, 'it starts over');
  assert.equal(throttle.unblock('fd00::1'), true);
  assert.equal(throttle.unblock('fd00::1'), false);
});

test('memory stays bounded under failures from very many addresses', () => {
  const { throttle, stateOf } = setUp();
  for (let i = 0; i < 25_000; i++) throttle.recordFailure(`fd00::${i.toString(16)}`);
  for (let i = 0; i < 2; i++) throttle.recordFailure('fd00::last');
  // Not observable through the API except by what is forgotten: the earliest addresses are.
  for (let i = 0; i < 3; i++) throttle.recordFailure('fd00::0');
  assert.equal(stateOf('fd00::0'), 'backoff', 'an address forgotten under pressure starts over, and is throttled again');
  throttle.recordFailure('fd00::last');
  assert.equal(stateOf('fd00::last'), 'backoff', 'a recent address is still tracked');
});
