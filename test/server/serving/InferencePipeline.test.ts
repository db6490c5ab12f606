/**
 * The serving core without a socket: registry, served versions, experiments and the pipeline built
 * directly on a temp SQLite file, with real onnxruntime sessions in real worker threads.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { InferboxError } from '../../../server/common/errors.js';
import { ExperimentService } from '../../../server/experiments/ExperimentService.js';
import { RequestLogWriter } from '../../../server/logging/RequestLogWriter.js';
import { InferenceMetrics } from '../../../server/metrics/InferenceMetrics.js';
import { ModelRegistry } from '../../../server/registry/ModelRegistry.js';
import { InferenceWorkerPool } from '../../../server/runtime/InferenceWorkerPool.js';
import { InferencePipeline, type InferenceCall, type InferenceCodec } from '../../../server/serving/InferencePipeline.js';
import { InferenceRecorder } from '../../../server/serving/InferenceRecorder.js';
import { decodeOipRequest, encodeOipResponse, type InferResponse, type OipBody } from '../../../server/serving/oipCodec.js';
import { ResponseCache } from '../../../server/serving/ResponseCache.js';
import type { ServedVersion } from '../../../server/serving/ServedVersion.js';
import { Store } from '../../../server/store/Store.js';
import { RequestTracer } from '../../../server/tracing/RequestTracer.js';
import { addModel, slowModel } from '../../fixtures/onnxModels.js';

let dataDir: string;
let store: Store;
let pool: InferenceWorkerPool;
let cache: ResponseCache;
let registry: ModelRegistry;
let experiments: ExperimentService;
let logWriter: RequestLogWriter;
let pipeline: InferencePipeline;

/** The OIP JSON codec, with the response as the reply (what the REST and gRPC codecs then write out). */
const oip: InferenceCodec<OipBody, ReturnType<typeof decodeOipRequest>, InferResponse> = {
  decode: decodeOipRequest,
  encode: ({ served, request, result, assignment, requestId }) => {
    const { response } = encodeOipResponse(served, request, result.outputs, assignment ? { variant: assignment, requestId } : null);
    return { reply: response, bytes: 0, json: () => JSON.stringify(response) };
  },
  logged: (body) => body.value,
};

let requests = 0;
const call = (model: string, version?: string, headers: Record<string, string> = {}): InferenceCall => ({
  model,
  version,
  requestId: `req-${++requests}`,
  keyId: 'key-1',
  protocol: 'rest',
  headers,
  span: { name: 'test', attributes: {} },
  declaredBytes: 0,
});

const addBody = (a: number[], b: number[]) => ({
  body: { value: { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: a }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: b }] }, binary: Buffer.alloc(0) },
  bytes: 100,
  parameters: () => ({}),
});

const slowBody = () => ({
  body: { value: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, () => 0.5) }] }, binary: Buffer.alloc(0) },
  bytes: 300,
  parameters: () => ({}),
});

const upload = (name: string, bytes: Uint8Array, activate = false) => registry.addVersion({ name, source: Readable.from([Buffer.from(bytes)]), maxBytes: 64 << 20, activate });

/** What a version leaves in the runtime: pool sessions, cached answers, a place among the served versions. */
function traces(served: ServedVersion): { poolEntry: boolean; cached: number; served: boolean } {
  return {
    poolEntry: pool.placementStatus(served.key) !== undefined,
    cached: cache.countOf(served.key),
    served: registry.servedVersions().includes(served),
  };
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inferbox-pipeline-'));
  store = Store.open(join(dataDir, 'inferbox.db'));
  pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  cache = new ResponseCache(() => 1 << 20);
  const metrics = new InferenceMetrics();
  registry = new ModelRegistry({
    models: store.models,
    serving: {
      pool,
      cache,
      batching: () => ({ maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayMicros: 0, maxQueueSize: 100, timeoutMicros: 0 }),
      cacheEnabled: (model) => store.models.getModel(model)?.cache_enabled === 1,
      onExecuted: (model, version) => metrics.executionCounter(model, version),
    },
    dataDir,
    versionInUse: (model, version) => experiments.versionInUse(model, version),
  });
  experiments = new ExperimentService({
    repository: store.experiments,
    model: (name) => registry.getModel(name),
    activate: (model, version) => registry.activate(model, version),
    requestExperiment: () => undefined,
    auditSystem: () => undefined,
    onError: (error) => { throw error; },
  });
  logWriter = new RequestLogWriter(store, (error) => { throw error; });
  pipeline = new InferencePipeline({
    versions: registry,
    experiments,
    recorder: new InferenceRecorder(metrics, logWriter),
    tracer: new RequestTracer({ settings: () => ({ endpoint: '', sampleRatio: 1 }), serviceVersion: 'test', onError: () => undefined }),
    logsPayloads: () => false,
    liveSamples: { offer: () => undefined },
  });
  await upload('add', addModel());
  await upload('add', addModel());
});

after(async () => {
  experiments.close();
  logWriter.close();
  await pool.close();
  store.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the pipeline', () => {
  test('answers through the active version and records the request once, with its stages', async () => {
    const c = call('add');
    const result = await pipeline.serve(c, addBody([1, 2, 3], [10, 20, 30]), oip);
    assert.ok(result.outcome.ok, String(!result.outcome.ok && result.outcome.error));
    const response = result.outcome.reply;
    assert.equal(response.model_version, '1', 'the first upload is the active version');
    assert.deepEqual(response.outputs, [{ name: 'sum', datatype: 'FP32', shape: [1, 3], data: [11, 22, 33] }]);
    assert.match(result.trace.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.equal(result.variant, null);
    assert.equal(result.timing?.batchRows, 1);
    logWriter.flushAndWait();
    const [row] = store.requestLog.query({ limit: 10, offset: 0, trace_id: result.trace.traceparent.split('-')[1] }).rows;
    assert.equal(row?.request_id, c.requestId);
    assert.equal(row?.status, 200);
    assert.equal(row?.version, '1');
    assert.ok(row!.infer_ms !== null && row!.decode_ms !== null, 'the stages are logged');
  });

  test('deliver hands the answer over before the request is recorded, and a deliver that throws still leaves it recorded', async () => {
    const logged = (requestId: string) => {
      logWriter.flushAndWait();
      return store.requestLog.query({ limit: 200, offset: 0, model: 'add' }).rows.some((row) => row.request_id === requestId);
    };
    const first = call('add');
    let recordedWhenDelivered: boolean | undefined;
    const result = await pipeline.serve(first, addBody([1, 1, 1], [2, 2, 2]), oip, (delivered) => {
      assert.ok(delivered.outcome.ok);
      recordedWhenDelivered = logged(first.requestId);
    });
    assert.equal(recordedWhenDelivered, false, 'not in the request log while the answer is handed over');
    assert.ok(result.outcome.ok);
    assert.equal(logged(first.requestId), true, 'recorded once serve returns');
    const second = call('add');
    await assert.rejects(pipeline.serve(second, addBody([1, 1, 1], [2, 2, 2]), oip, () => { throw new Error('the socket broke'); }), /the socket broke/);
    assert.equal(logged(second.requestId), true, 'recorded although the answer could not be written');
  });

  test('a refusal is an outcome, not a throw, and is recorded with its status', async () => {
    const unknown = await pipeline.serve(call('nope'), addBody([1, 2, 3], [1, 2, 3]), oip);
    assert.equal(unknown.outcome.ok, false);
    assert.equal((unknown.outcome as { error: InferboxError }).error.code, 'IBX_ERR_MODEL_NOT_FOUND');
    const bad = await pipeline.serve(call('add', '2'), addBody([1, 2], [1, 2, 3]), oip);
    assert.equal((bad.outcome as { error: InferboxError }).error.code, 'IBX_ERR_DATA_LENGTH');
    const unread = await pipeline.serve(call('add'), Promise.reject(new Error('connection reset')), oip);
    assert.equal(unread.outcome.ok, false, 'a failed body read is an outcome too');
    logWriter.flushAndWait();
    const statuses = store.requestLog.query({ limit: 10, offset: 0, model: 'nope' }).rows.map((r) => r.status);
    assert.deepEqual(statuses, [404]);
    const badRow = store.requestLog.query({ limit: 10, offset: 0, model: 'add', status: 400 }).rows[0];
    assert.equal(badRow?.version, '2', 'a refusal by the version names the version');
  });

  test('an experiment routes unversioned requests by unit; a named version bypasses it', async () => {
    const created = experiments.create({ name: 'v1 vs v2', model: 'add', variants: [{ name: 'control', version: '1' }, { name: 'treatment', version: '2' }], seed: 'fixed' });
    experiments.transition(created.id, 'start');
    try {
      const seen = new Map<string, string>();
      for (let unit = 0; unit < 40; unit++) {
        const result = await pipeline.serve(call('add', undefined, { 'x-unit-id': `u${unit}` }), addBody([1, 1, 1], [1, 1, 1]), oip);
        assert.ok(result.outcome.ok);
        const [experimentId, variant] = result.variant!.split('/');
        assert.equal(experimentId, created.id);
        const response = result.outcome.reply;
        assert.equal(response.model_version, variant === 'control' ? '1' : '2', 'the variant\'s version answered');
        assert.equal(response.parameters.variant, variant);
        seen.set(variant!, response.model_version);
      }
      assert.equal(seen.size, 2, 'both variants get units');
      const named = await pipeline.serve(call('add', '2', { 'x-unit-id': 'u1' }), addBody([1, 1, 1], [1, 1, 1]), oip);
      assert.equal(named.variant, null);
    } finally {
      experiments.transition(created.id, 'stop');
    }
  });
});

describe('a served version\'s lifecycle', () => {
  test('unloading or deleting a version leaves no batcher, pool entry or cached answer behind', async () => {
    await upload('cached', addModel());
    registry.setCacheEnabled('cached', true);
    const served = registry.resolve('cached');
    for (let i = 0; i < 3; i++) assert.ok((await pipeline.serve(call('cached'), addBody([i, 0, 0], [0, 0, 0]), oip)).outcome.ok);
    assert.equal((await pipeline.serve(call('cached'), addBody([0, 0, 0], [0, 0, 0]), oip)).cache, 'hit');
    assert.deepEqual(traces(served), { poolEntry: true, cached: 3, served: true });

    await registry.unload('cached', '1');
    assert.deepEqual(traces(served), { poolEntry: false, cached: 0, served: false });
    assert.equal(served.acquire(), false, 'a retired version takes no request');
    const refused = await pipeline.serve(call('cached'), addBody([0, 0, 0], [0, 0, 0]), oip);
    assert.equal((refused.outcome as { error: InferboxError }).error.code, 'IBX_ERR_MODEL_NOT_READY');

    await registry.load('cached', '1');
    const reloaded = registry.resolve('cached');
    assert.notEqual(reloaded, served, 'a load makes a new served version');
    assert.ok((await pipeline.serve(call('cached'), addBody([5, 0, 0], [0, 0, 0]), oip)).outcome.ok);
    assert.equal(cache.countOf(reloaded.key), 1);
    await registry.deleteVersion('cached', '1');
    assert.deepEqual(traces(reloaded), { poolEntry: false, cached: 0, served: false });
    assert.equal(registry.servedVersions().some((v) => v.name === 'cached'), false);
  });

  test('a request holding its version finishes before the version unloads; later ones get a clear 503', async () => {
    await upload('slow', slowModel(40));
    const served = registry.resolve('slow');
    const inFlight = pipeline.serve(call('slow'), slowBody(), oip);
    await new Promise((resolve) => setImmediate(resolve));
    const unloaded = registry.unload('slow', '1');
    const result = await inFlight;
    assert.ok(result.outcome.ok, 'the request that held the version was answered');
    await unloaded;
    assert.deepEqual(traces(served), { poolEntry: false, cached: 0, served: false });
    assert.equal(pipeline.interactiveInFlight, 0);
  });

  test('a precision swap serves the new precision at once and retires the old one', async () => {
    const before = registry.resolve('add', '2');
    // The int8 file does not exist: the swap is refused and the fp32 version keeps serving.
    await assert.rejects(registry.setServedPrecision('add', '2', 'int8'));
    assert.equal(registry.resolve('add', '2'), before);
    assert.deepEqual(traces(before), { poolEntry: true, cached: 0, served: true });
  });
});
