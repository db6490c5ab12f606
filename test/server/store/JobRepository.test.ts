import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store } from '../../../server/store/Store.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-jobs-'));
const store = Store.open(join(dir, 'jobs.db'));
after(async () => { store.close(); await rm(dir, { recursive: true, force: true }); });

const newJob = (id: string, key: string | null = 'k1') => ({ id, model_name: 'mlp', version: '1', source: 'json' as const, created_by_key: key, created_by_name: 'app', created_at: '2026-01-01T00:00:00.000Z' });

test('pending items are those without a result; each result counts once, with the counters in the same transaction', () => {
  const job = store.jobs.insert(newJob('job_1'), ['{"i":0}', '{"i":1}', '{"i":2}']);
  assert.deepEqual([job.state, job.total, job.done], ['queued', 3, 0]);
  assert.equal(store.jobs.nextRunnable()?.id, 'job_1');
  store.jobs.markRunning('job_1', '2026-01-01T00:00:01.000Z');
  assert.deepEqual(store.jobs.pendingItems('job_1', 2), [{ index: 0, request: { i: 0 } }, { index: 1, request: { i: 1 } }]);
  assert.equal(store.jobs.commitResult('job_1', 1, { outputs: [1] }, 'now'), true);
  assert.equal(store.jobs.commitResult('job_1', 1, { error: 'again' }, 'now'), false, 'a second result for the same item is not written');
  assert.equal(store.jobs.commitResult('job_1', 2, { error: 'bad input' }, 'now'), true);
  assert.deepEqual(store.jobs.pendingItems('job_1', 10).map((i) => i.index), [0]);
  assert.deepEqual(store.jobs.get('job_1')!.done, 2);
  assert.deepEqual(store.jobs.get('job_1')!.failed, 1);
  assert.deepEqual(store.jobs.results('job_1', -1, 10), [{ index: 1, outputs: [1], error: null }, { index: 2, outputs: null, error: 'bad input' }]);
  assert.equal(store.jobs.commitResult('job_missing', 0, { outputs: [] }, 'now'), false, 'a deleted job takes no results');
});

test('finishing drops the inputs and keeps the results; listing is newest first and per key; purge takes finished jobs only', () => {
  store.jobs.insert(newJob('job_2', 'k2'), ['{}']);
  assert.equal(store.jobs.finish('job_1', 'succeeded', null, '2026-01-02T00:00:00.000Z'), true);
  assert.equal(store.jobs.finish('job_1', 'cancelled', null, '2026-01-02T00:00:00.000Z'), false, 'an ended job stays as it ended');
  assert.deepEqual(store.jobs.pendingItems('job_1', 10), []);
  assert.equal(store.jobs.results('job_1', -1, 10).length, 2);
  assert.deepEqual(store.jobs.query({ limit: 10, offset: 0 }).rows.map((j) => j.id), ['job_2', 'job_1']);
  assert.deepEqual(store.jobs.query({ created_by_key: 'k2', limit: 10, offset: 0 }).rows.map((j) => j.id), ['job_2']);
  assert.deepEqual(store.jobs.query({ state: 'succeeded', limit: 10, offset: 0 }).total, 1);
  assert.equal(store.jobs.nextRunnable()?.id, 'job_2');
  assert.equal(store.jobs.purgeFinishedBefore('2026-02-01T00:00:00.000Z'), 1);
  assert.equal(store.jobs.get('job_1'), undefined);
  assert.ok(store.jobs.get('job_2'), 'a queued job is never purged');
});
