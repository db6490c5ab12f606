import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsHistory } from '../../../server/metrics/MetricsHistory.js';

test('keeps the newest samples up to its capacity, oldest first, each with its time', async () => {
  let n = 0;
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const history = new MetricsHistory(async () => [{ n: ++n }], { capacity: 3, intervalMs: 2000 }, () => new Date((clock += 2000)));
  assert.deepEqual(history.snapshots(), []);
  for (let i = 0; i < 5; i++) await history.record();
  const samples = history.snapshots();
  assert.deepEqual(samples.map((s) => s.models[0]!.n), [3, 4, 5]);
  assert.deepEqual(samples.map((s) => s.at), ['2026-11-20T10:00:06.000Z', '2026-11-20T10:00:08.000Z', '2026-11-20T10:00:10.000Z']);
  samples.pop();
  assert.equal(history.snapshots().length, 3, 'callers get a copy');
});
