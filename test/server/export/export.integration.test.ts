import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { after, before, test } from 'node:test';
import { extract } from 'tar-stream';
import type { ExportTarget } from '../../../server/export/ExportTarget.js';
import { kserveManifest } from '../../../server/export/kserveManifest.js';
import { tritonConfig } from '../../../server/export/tritonConfig.js';
import { onnx } from '../../../server/onnx/onnxModel.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');

let server: TestServer;
let mlpBytes: Buffer;

before(async () => {
  server = await startTestServer();
  mlpBytes = await readFile(MLP);
  // Its own model (no int8 candidate), so the served file is certainly the fp32 original.
  const upload = await server.request('POST', '/api/models/penguins/versions?quantize=false', { body: mlpBytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
  const settings = await server.request('PUT', '/api/models/penguins/settings', { json: { max_batch_size: 16, preferred_batch_sizes: [4, 8], max_queue_delay_micros: 500, max_queue_size: 200, timeout_micros: 250_000, max_instances: 2, intra_op_threads: 1 } });
  assert.equal(settings.status, 200, await settings.text());
});
after(() => server.cleanup());

type PbValue = string | number | boolean | PbMessage | PbValue[];
interface PbMessage { [field: string]: PbValue[] }

/**
 * A small parser for protobuf text format, enough for Triton's config.pbtxt: `field: scalar`,
 * `field: [ a, b ]`, `field { … }`, `field [ { … }, { … } ]`, `# comments`. Every field maps to
 * the list of its values (repeated fields and lists alike), so the test asserts structure, not text.
 */
function parsePbtxt(source: string): PbMessage {
  const tokens = source.replace(/#[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,]+/g) ?? [];
  let at = 0;
  const scalar = (token: string): PbValue => (token.startsWith('"') ? JSON.parse(token) : /^-?\d+(\.\d+)?$/.test(token) ? Number(token) : token === 'true' ? true : token === 'false' ? false : token);
  const value = (): PbValue => {
    const token = tokens[at++]!;
    if (token === '{') return message('}');
    if (token === '[') {
      const items: PbValue[] = [];
      while (tokens[at] !== ']') { items.push(value()); if (tokens[at] === ',') at++; }
      at++;
      return items;
    }
    return scalar(token);
  };
  const message = (end: string | undefined): PbMessage => {
    const result: PbMessage = {};
    while (at < tokens.length && tokens[at] !== end) {
      const field = tokens[at++]!;
      if (tokens[at] === ':') at++;
      const parsed = value();
      (result[field] ??= []).push(...(Array.isArray(parsed) ? parsed : [parsed]));
    }
    at++;
    return result;
  };
  return message(undefined);
}

async function untar(body: Readable): Promise<Map<string, { type: string; data: Buffer }>> {
  const entries = new Map<string, { type: string; data: Buffer }>();
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => { entries.set(header.name, { type: header.type ?? 'file', data: Buffer.concat(chunks) }); next(); });
  });
  await pipeline(body, createGunzip(), tar);
  return entries;
}

test('format=triton: a .tar.gz model repository holding the exact model bytes and a config with the batching settings', async () => {
  const response = await server.request('GET', '/api/models/penguins/versions/1/export?format=triton');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/gzip');
  assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="penguins-1-triton.tar.gz"/);
  assert.equal(response.headers.get('inferbox-exported-precision'), 'fp32');
  const entries = await untar(Readable.fromWeb(response.body! as WebReadableStream));
  assert.deepEqual([...entries.keys()].sort(), ['penguins-v1/', 'penguins-v1/penguins/', 'penguins-v1/penguins/1/', 'penguins-v1/penguins/1/model.onnx', 'penguins-v1/penguins/config.pbtxt']);
  assert.ok(entries.get('penguins-v1/penguins/1/model.onnx')!.data.equals(mlpBytes), 'the archive holds the uploaded file byte for byte');

  const config = parsePbtxt(entries.get('penguins-v1/penguins/config.pbtxt')!.data.toString('utf8'));
  assert.deepEqual(config.name, ['penguins']);
  assert.deepEqual(config.platform, ['onnxruntime_onnx']);
  assert.deepEqual(config.backend, ['onnxruntime']);
  assert.deepEqual(config.version_policy, [{ specific: [{ versions: [1] }] }]);
  assert.deepEqual(config.max_batch_size, [16]);
  // mlp: features FP32 [-1, 4] → probabilities FP32 [-1, 3], label INT64 [-1]: dims without the batch dimension.
  assert.deepEqual(config.input, [{ name: ['features'], data_type: ['TYPE_FP32'], dims: [4] }]);
  assert.deepEqual(config.output, [
    { name: ['probabilities'], data_type: ['TYPE_FP32'], dims: [3] },
    { name: ['label'], data_type: ['TYPE_INT64'], dims: [1], reshape: [{ shape: [] }] },
  ]);
  assert.deepEqual(config.dynamic_batching, [{
    preferred_batch_size: [4, 8],
    max_queue_delay_microseconds: [500],
    default_queue_policy: [{ timeout_action: ['REJECT'], default_timeout_microseconds: [250000], allow_timeout_override: [true], max_queue_size: [200] }],
  }]);
  assert.deepEqual(config.instance_group, [{ count: [2], kind: ['KIND_AUTO'] }]);
  assert.deepEqual(config.parameters, [{ key: ['intra_op_thread_count'], value: [{ string_value: ['1'] }] }]);
  assert.equal(response.headers.get('inferbox-export-warning'), null, 'opset 17 runs on the ONNX Runtime in KServe\'s Triton');
  const audit = (await (await server.request('GET', '/api/audit?action=model.export')).json()) as { entries: { target: string; details: { format: string } }[] };
  assert.ok(audit.entries.some((e) => e.target === 'penguins/1' && e.details.format === 'triton'));
});

test('a model without a dynamic batch dimension exports with max_batch_size 0, full dims and no dynamic_batching', () => {
  const config = parsePbtxt(tritonConfig({
    model: 'ocr "cls"',
    version: '3',
    precision: 'int8',
    file: '/unused',
    opset: null,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192] }],
    outputs: [{ name: 'y', datatype: 'BYTES', shape: [1, -1] }],
    settings: { max_batch_size: 32, preferred_batch_sizes: [], max_queue_delay_micros: 0, max_queue_size: 1024, timeout_micros: 0, max_instances: 1, intra_op_threads: 1 },
    labels: {},
    metrics: {},
    created_at: '2026-11-01T00:00:00Z',
  }));
  assert.deepEqual(config.name, ['ocr "cls"'], 'names are escaped');
  assert.deepEqual(config.max_batch_size, [0]);
  assert.deepEqual(config.input, [{ name: ['x'], data_type: ['TYPE_FP32'], dims: [1, 3, 48, 192] }]);
  assert.deepEqual(config.output, [{ name: ['y'], data_type: ['TYPE_STRING'], dims: [1, -1] }]);
  assert.equal(config.dynamic_batching, undefined);
});

/** A version as the export sees it, without a server: the mlp's signature and default-like settings. */
function target(overrides: { settings?: Partial<ExportTarget['settings']> } & Partial<Omit<ExportTarget, 'settings'>> = {}): ExportTarget {
  const { settings, ...rest } = overrides;
  return {
    model: 'mlp',
    version: '1',
    precision: 'fp32',
    file: '/unused',
    opset: 17,
    inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }],
    settings: { max_batch_size: 8, preferred_batch_sizes: [], max_queue_delay_micros: 0, max_queue_size: 1024, timeout_micros: 0, max_instances: 2, intra_op_threads: 1, ...settings },
    labels: {},
    metrics: {},
    created_at: '2026-11-01T00:00:00Z',
    ...rest,
  };
}

test('a model without a queue timeout exports a finite default, so Triton applies the timeout a client asks for (issue 19 item 11)', () => {
  const policy = parsePbtxt(tritonConfig(target({ settings: { timeout_micros: 0 } }))).dynamic_batching![0] as PbMessage;
  const queue = policy.default_queue_policy![0] as PbMessage;
  assert.deepEqual(queue.allow_timeout_override, [true]);
  const defaultTimeout = queue.default_timeout_microseconds![0] as number;
  // Triton's rule (core PriorityQueue::PolicyQueue::Enqueue): a request's timeout counts only when it is shorter than the default.
  const clientTimeout = 5_000_000;
  assert.ok(defaultTimeout > clientTimeout, `a 5 s client timeout must be shorter than the default (${defaultTimeout} µs)`);
  // A model with its own limit keeps it.
  const own = parsePbtxt(tritonConfig(target({ settings: { timeout_micros: 250_000 } }))).dynamic_batching![0] as PbMessage;
  assert.deepEqual((own.default_queue_policy![0] as PbMessage).default_timeout_microseconds, [250_000]);
});

test('each instance gets the threads it has here, not one per core of the node (issue 19 item 12)', () => {
  const config = parsePbtxt(tritonConfig(target({ settings: { max_instances: 2, intra_op_threads: 3 } })));
  assert.deepEqual(config.instance_group, [{ count: [2], kind: ['KIND_AUTO'] }]);
  assert.deepEqual(config.parameters, [{ key: ['intra_op_thread_count'], value: [{ string_value: ['3'] }] }]);
});

test('an opset newer than the ONNX Runtime in KServe\'s default Triton implements is warned about in both exports (issue 19 item 12)', () => {
  const newer = target({ opset: 20 });
  const text = tritonConfig(newer);
  assert.match(text, /^# WARNING: the model uses ONNX opset 20; ONNX Runtime 1\.15\.0 in nvcr\.io\/nvidia\/tritonserver:23\.05-py3 .* opset 19 at most/m);
  assert.deepEqual(parsePbtxt(text).name, ['mlp'], 'a comment, so the config stays valid');
  const manifest = kserveManifest(newer) as { metadata: { annotations: Record<string, string> } };
  assert.match(manifest.metadata.annotations['inferbox.dev/warning']!, /opset 20.*ONNX Runtime 1\.15\.0/);
  for (const fits of [target({ opset: 19 }), target({ opset: null })]) {
    assert.doesNotMatch(tritonConfig(fits), /WARNING/);
    assert.equal((kserveManifest(fits) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['inferbox.dev/warning'], undefined);
  }
});

test('the export of an uploaded opset-20 model answers with the warning in a header (issue 19 item 12)', async () => {
  const model = onnx.ModelProto.decode(mlpBytes);
  model.opsetImport = [{ domain: '', version: 20 }];
  model.irVersion = 9;
  const upload = await server.request('POST', '/api/models/newer/versions?quantize=false', { body: Buffer.from(onnx.ModelProto.encode(model).finish()), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201, await upload.text());
  for (const format of ['triton', 'kserve']) {
    const response = await server.request('GET', `/api/models/newer/versions/1/export?format=${format}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('inferbox-export-warning') ?? '', /opset 20.*opset 19 at most/);
    await response.arrayBuffer();
  }
});

test('format=kserve: an InferenceService manifest for the ONNX model on the v2 protocol, storageUri for the user to fill in', async () => {
  const response = await server.request('GET', '/api/models/penguins/versions/1/export?format=kserve');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-disposition') ?? '', /penguins-v1-inferenceservice\.json/);
  const manifest = (await response.json()) as { apiVersion: string; kind: string; metadata: { name: string; annotations: Record<string, string> }; spec: { predictor: { model: Record<string, unknown> } } };
  assert.equal(manifest.apiVersion, 'serving.kserve.io/v1beta1');
  assert.equal(manifest.kind, 'InferenceService');
  assert.equal(manifest.metadata.name, 'penguins-v1');
  assert.deepEqual(manifest.spec.predictor.model.modelFormat, { name: 'onnx' });
  assert.equal(manifest.spec.predictor.model.protocolVersion, 'v2');
  assert.equal(manifest.spec.predictor.model.storageUri, 's3://REPLACE-ME/inferbox-models/penguins-v1');
  assert.equal(manifest.metadata.annotations['inferbox.dev/batching'], 'max_batch_size=16');
});

test('two versions of a model export to two repositories, each pinned to its version (issue 19 item 9)', async () => {
  const upload = await server.request('POST', '/api/models/penguins/versions?quantize=false', { body: mlpBytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
  const version = ((await upload.json()) as { version: string }).version;
  assert.equal(version, '2');
  const exported = await Promise.all(['1', '2'].map(async (v) => {
    const manifest = (await (await server.request('GET', `/api/models/penguins/versions/${v}/export?format=kserve`)).json()) as { spec: { predictor: { model: { storageUri: string } } } };
    const triton = await server.request('GET', `/api/models/penguins/versions/${v}/export?format=triton`);
    const entries = await untar(Readable.fromWeb(triton.body! as WebReadableStream));
    return { v, storageUri: manifest.spec.predictor.model.storageUri, entries };
  }));
  assert.notEqual(exported[0]!.storageUri, exported[1]!.storageUri, 'one shared folder would hold both versions: Triton serves the highest');
  for (const { v, storageUri, entries } of exported) {
    // The archive's top folder is the folder storageUri names: unpacked below the storage root, the URI is right as it is.
    const repository = storageUri.split('/').at(-1)!;
    assert.equal(repository, `penguins-v${v}`);
    assert.ok(entries.has(`${repository}/penguins/${v}/model.onnx`));
    assert.deepEqual([...entries.keys()].filter((name) => name.endsWith('model.onnx')), [`${repository}/penguins/${v}/model.onnx`], 'one version per repository');
    const config = parsePbtxt(entries.get(`${repository}/penguins/config.pbtxt`)!.data.toString('utf8'));
    assert.deepEqual(config.version_policy, [{ specific: [{ versions: [Number(v)] }] }], 'even a repository holding both versions serves this one');
  }
});

test('a model named 3layer exports under a name KServe accepts, the same in the manifest, its storageUri and the archive (issue 19 item 10)', async () => {
  assert.equal((await server.request('POST', '/api/models/3layer/versions?quantize=false', { body: mlpBytes, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
  const kserve = await server.request('GET', '/api/models/3layer/versions/1/export?format=kserve');
  const manifest = (await kserve.json()) as { metadata: { name: string; annotations: Record<string, string> }; spec: { predictor: { model: { storageUri: string } } } };
  assert.match(manifest.metadata.name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/, "KServe's IsvcNameFmt");
  assert.equal(manifest.metadata.annotations['inferbox.dev/model'], '3layer', 'the original name stays with the service');
  assert.equal(manifest.spec.predictor.model.storageUri, `s3://REPLACE-ME/inferbox-models/${manifest.metadata.name}`);
  assert.match(kserve.headers.get('content-disposition') ?? '', new RegExp(`${manifest.metadata.name}-inferenceservice\\.json`));
  const triton = await server.request('GET', '/api/models/3layer/versions/1/export?format=triton');
  const entries = await untar(Readable.fromWeb(triton.body! as WebReadableStream));
  // Triton's model (and so the /v2/models/3layer/infer path clients call) keeps its name.
  const config = parsePbtxt(entries.get(`${manifest.metadata.name}/3layer/config.pbtxt`)!.data.toString('utf8'));
  assert.deepEqual(config.name, ['3layer']);
});

test('bad export requests: unknown format 400, unknown version 404', async () => {
  const bad = await server.request('GET', '/api/models/penguins/versions/1/export?format=zip');
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /format/);
  const missing = await server.request('GET', '/api/models/penguins/versions/9/export?format=triton');
  assert.equal(missing.status, 404);
});
