import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RuntimeTensor } from '../../../server/common/datatypes.js';
import { InferboxError } from '../../../server/common/errors.js';
import { DynamicBatcher, type BatchingSettings } from '../../../server/serving/DynamicBatcher.js';
import type { PoolRunResult } from '../../../server/runtime/InferenceWorkerPool.js';

/**
 * The batcher's collaborator is the worker pool's run(); here a plain function stands in for it
 * that doubles `x` and keeps a log of the batches, with runs held open until released, so the
 * tests control exactly when instances are busy. (The server tests use the real pool and ORT.)
 */
function harness(settings: Partial<BatchingSettings> & { concurrency?: number } = {}) {
  const batches: number[][] = [];
  let backlogs = 0;
  const held: (() => void)[] = [];
  let fail = false;
  const executed: number[] = [];
  const run = async (feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<PoolRunResult> => {
    const x = feeds.x!;
    batches.push(Array.from(x.data as Float32Array));
    await new Promise<void>((resolve) => held.push(resolve));
    if (fail) throw new Error('run failed');
    const outputs = Object.fromEntries(outputNames.map((name) => [name, { type: 'float32' as const, dims: x.dims, data: (x.data as Float32Array).map((v) => v * 2) }]));
    return { outputs, queueMs: 0, inferMs: 1 };
  };
  const { concurrency = 1, ...batching } = settings;
  const chosen: BatchingSettings = { maxBatchSize: 8, preferredBatchSizes: [], maxQueueSize: 100, maxQueueDelayMicros: 0, timeoutMicros: 0, ...batching };
  const batcher = new DynamicBatcher(run, () => chosen, { capacity: () => concurrency, onBacklog: () => { backlogs += 1; }, onExecuted: (rows) => executed.push(rows) });
  const flush = async () => { await new Promise((r) => setImmediate(r)); while (held.length > 0) { held.shift()!(); await new Promise((r) => setImmediate(r)); } };
  return { batcher, batches, flush, executed, setFail: (v: boolean) => { fail = v; }, backlogs: () => backlogs };
}

const request = (values: number[], cols = 1): Record<string, RuntimeTensor> => ({ x: { type: 'float32', dims: [values.length / cols, cols], data: Float32Array.from(values) } });
const valuesOf = (r: { outputs: Record<string, RuntimeTensor> }) => Array.from(r.outputs.y!.data as Float32Array);

describe('DynamicBatcher', () => {
  test('counts what waits (queue depth) and reports each successful run with its rows (executions, inferences)', async () => {
    const { batcher, flush, executed, setFail } = harness();
    const all = [batcher.enqueue(request([1]), ['y']), batcher.enqueue(request([2, 3]), ['y']), batcher.enqueue(request([4]), ['y'])];
    assert.equal(batcher.queued, 2, 'the first runs, two wait');
    await flush();
    await Promise.all(all);
    assert.equal(batcher.queued, 0);
    assert.deepEqual(executed, [1, 3], 'one run of 1 row, then one of 3');
    setFail(true);
    const failed = assert.rejects(batcher.enqueue(request([5]), ['y']), /run failed/);
    await flush();
    await failed;
    assert.deepEqual(executed, [1, 3], 'a failed run is not an execution');
  });

  test('a lone request runs at once; requests queued while busy run as one batch and get their own rows back', async () => {
    const { batcher, batches, flush } = harness();
    const first = batcher.enqueue(request([1]), ['y']);
    const rest = [batcher.enqueue(request([2, 3]), ['y']), batcher.enqueue(request([4]), ['y']), batcher.enqueue(request([5]), ['y'])];
    await flush();
    const results = await Promise.all([first, ...rest]);
    assert.deepEqual(batches, [[1], [2, 3, 4, 5]], 'the first ran alone, the other three as one run');
    assert.deepEqual(results.map(valuesOf), [[2], [4, 6], [8], [10]]);
    assert.deepEqual(results.map((r) => r.batchRows), [1, 4, 4, 4]);
    assert.deepEqual(results[1]!.outputs.y!.dims, [2, 1]);
  });

  test('never more than maxBatchSize rows, requests are never split, incompatible shapes and outputs go apart', async () => {
    const { batcher, batches, flush } = harness({ maxBatchSize: 4 });
    const busy = batcher.enqueue(request([0]), ['y']);
    const queued = [
      batcher.enqueue(request([1, 2, 3]), ['y']),
      batcher.enqueue(request([4, 5]), ['y']), // would make 5 rows: waits for the next run
      batcher.enqueue(request([6, 7], 2), ['y']), // other inner shape
      batcher.enqueue(request([8]), ['y']),
      batcher.enqueue(request([9, 10, 11, 12, 13]), ['y']), // more than maxBatchSize: runs alone, whole
    ];
    await flush();
    const results = await Promise.all([busy, ...queued]);
    assert.deepEqual(batches, [[0], [1, 2, 3, 8], [4, 5], [6, 7], [9, 10, 11, 12, 13]]);
    assert.deepEqual(results.map(valuesOf), [[0], [2, 4, 6], [8, 10], [12, 14], [16], [18, 20, 22, 24, 26]]);
  });

  test('a full queue refuses with 503 and Retry-After', async () => {
    const { batcher, flush } = harness({ maxQueueSize: 2 });
    const accepted = [batcher.enqueue(request([1]), ['y']), batcher.enqueue(request([2]), ['y']), batcher.enqueue(request([3]), ['y'])];
    await assert.rejects(batcher.enqueue(request([4]), ['y']), (e: unknown) => e instanceof InferboxError && e.status === 503 && e.headers['Retry-After'] === '1');
    await flush();
    assert.equal((await Promise.all(accepted)).length, 3);
  });

  test('a failing run fails its own requests only', async () => {
    const { batcher, flush, setFail } = harness();
    const busy = batcher.enqueue(request([1]), ['y']);
    const doomed = [batcher.enqueue(request([2]), ['y']), batcher.enqueue(request([3]), ['y'])];
    const failures = [busy, ...doomed].map((p) => assert.rejects(p, /run failed/));
    setFail(true);
    await flush();
    await Promise.all(failures);
    setFail(false);
    const after = batcher.enqueue(request([4]), ['y']);
    await flush();
    assert.deepEqual(valuesOf(await after), [8]);
  });

  test('with a queue delay, a lone request waits for company even when an instance is free', async () => {
    const { batcher, batches, flush } = harness({ maxQueueDelayMicros: 20_000 });
    const a = batcher.enqueue(request([1]), ['y']);
    const b = batcher.enqueue(request([2]), ['y']);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await flush();
    await Promise.all([a, b]);
    assert.deepEqual(batches, [[1, 2]]);
  });

  test('preferred batch sizes: a batch stops at the largest preferred size it can form exactly', async () => {
    const { batcher, batches, flush } = harness({ maxBatchSize: 8, preferredBatchSizes: [2, 4] });
    const busy = batcher.enqueue(request([0]), ['y']);
    const queued = [1, 2, 3, 4, 5, 6].map((v) => batcher.enqueue(request([v]), ['y']));
    await flush();
    const results = await Promise.all([busy, ...queued]);
    assert.deepEqual(batches, [[0], [1, 2, 3, 4], [5, 6]], 'six queued rows run as 4 + 2, not as one batch of 6');
    assert.deepEqual(results.map(valuesOf), [[0], [2], [4], [6], [8], [10], [12]]);
  });

  test('a request still queued when its timeout runs out gets 503; the model limit and the request parameter both apply, the shorter wins', async () => {
    const { batcher, flush } = harness({ timeoutMicros: 1_000_000 });
    const busy = batcher.enqueue(request([1]), ['y']);
    const started = performance.now();
    const expired = batcher.enqueue(request([2]), ['y'], { timeoutMicros: 20_000 });
    await assert.rejects(expired, (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_QUEUE_TIMEOUT' && e.status === 503 && e.headers['Retry-After'] === '1');
    const waited = performance.now() - started;
    assert.ok(waited >= 15 && waited < 900, `expired after ${waited.toFixed(0)} ms, by the request's 20 ms, not the model's 1 s`);
    const patient = batcher.enqueue(request([3]), ['y']);
    await flush();
    assert.deepEqual((await Promise.all([busy, patient])).map(valuesOf), [[2], [6]], 'the running and the next request were not touched');
  });

  test('requests waiting with every instance busy report a backlog (the pool may add an instance)', async () => {
    const { batcher, flush, backlogs } = harness();
    const first = batcher.enqueue(request([1]), ['y']);
    assert.equal(backlogs(), 0, 'a lone request on a free instance is no backlog');
    const second = batcher.enqueue(request([2]), ['y']);
    assert.ok(backlogs() >= 1);
    await flush();
    await Promise.all([first, second]);
  });
});
