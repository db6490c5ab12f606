import assert from 'node:assert/strict';
import { test } from 'node:test';
import { yieldToInteractive } from '../../../server/jobs/yieldToInteractive.js';

const options = (signal = new AbortController().signal) => ({ maxWaitMs: 200, pollMs: 2, signal });

test('no interactive request in flight: background work goes on at once', async () => {
  assert.equal(await yieldToInteractive(() => 0, options()), true);
});

test('waits while interactive requests are in flight and goes on when they are done', async () => {
  let inFlight = 2;
  setTimeout(() => (inFlight = 0), 30);
  const started = Date.now();
  assert.equal(await yieldToInteractive(() => inFlight, options()), true);
  assert.ok(Date.now() - started >= 25);
});

test('under continuous load the starvation guard lets background work take a step', async () => {
  const started = Date.now();
  assert.equal(await yieldToInteractive(() => 1, options()), false);
  const waited = Date.now() - started;
  assert.ok(waited >= 190 && waited < 1000, `${waited} ms`);
});

test('a stop ends the wait', async () => {
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 10);
  const started = Date.now();
  assert.equal(await yieldToInteractive(() => 1, options(stop.signal)), false);
  assert.ok(Date.now() - started < 150);
});
