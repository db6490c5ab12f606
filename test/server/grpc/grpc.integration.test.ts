import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { buildModel } from '../../../models/lib/onnxGraph.js';
import { IDENTITY_DTYPES, IDENTITY_SAMPLES as SAMPLES, identityModel } from '../../fixtures/onnxModels.js';
import { inferenceClient, type InferenceClient } from '../../helpers/grpcClient.js';
import { requestFrom } from '../../helpers/requestFrom.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');

interface OutputTensor { name: string; datatype: string; shape: string[]; parameters: Record<string, unknown> }
interface InferResponse { model_name: string; model_version: string; id: string; parameters: Record<string, { parameter_choice: string; string_param?: string }>; outputs: OutputTensor[]; raw_output_contents: Buffer[] }
type LogRows = { logs: { request_id: string; status: number; key_id: string | null; model: string; version: string | null; error: string | null; bytes_in: number; bytes_out: number; experiment_id: string | null }[] };

let server: TestServer;
let client: InferenceClient;

before(async () => {
  server = await startTestServer();
  const upload = await server.request('POST', '/api/models/identity/versions?quantize=false', { body: identityModel(), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
  // The identity model without float16: InferTensorContents has no FP16 field, and raw and typed contents cannot mix.
  const typed = IDENTITY_DTYPES.filter((type) => type !== 'float16');
  const typedModel = buildModel({
    graphName: 'typed',
    inputs: typed.map((type) => ({ name: `in_${type}`, type, shape: ['n'] })),
    outputs: typed.map((type) => ({ name: `out_${type}`, type, shape: ['n'] })),
    nodes: typed.map((type) => ({ op: 'Identity', inputs: [`in_${type}`], outputs: [`out_${type}`] })),
    producer: { name: 'inferbox-test', version: '1' },
  });
  assert.equal((await server.request('POST', '/api/models/typed/versions?quantize=false', { body: typedModel, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
  client = inferenceClient(server.running.grpcTargets[0]!, server.adminKey);
});
after(async () => {
  client.close();
  await server.cleanup();
});

/** Raw little-endian bytes as a Triton client sends them, written from the spec (BYTES: 4-byte length prefix per element). */
function rawOf(datatype: string, values: unknown[]): Buffer {
  if (datatype === 'BYTES') return Buffer.concat((values as string[]).flatMap((s) => { const b = Buffer.from(s); const n = Buffer.alloc(4); n.writeUInt32LE(b.length); return [n, b]; }));
  const writers: Record<string, [number, (b: Buffer, v: never, o: number) => unknown]> = {
    BOOL: [1, (b, v: boolean, o) => b.writeUInt8(v ? 1 : 0, o)], UINT8: [1, (b, v: number, o) => b.writeUInt8(v, o)], INT8: [1, (b, v: number, o) => b.writeInt8(v, o)],
    UINT16: [2, (b, v: number, o) => b.writeUInt16LE(v, o)], INT16: [2, (b, v: number, o) => b.writeInt16LE(v, o)], FP16: [2, (b, v: number, o) => b.writeUInt16LE(v, o)],
    UINT32: [4, (b, v: number, o) => b.writeUInt32LE(v, o)], INT32: [4, (b, v: number, o) => b.writeInt32LE(v, o)], FP32: [4, (b, v: number, o) => b.writeFloatLE(v, o)],
    FP64: [8, (b, v: number, o) => b.writeDoubleLE(v, o)], UINT64: [8, (b, v: bigint, o) => b.writeBigUInt64LE(v, o)], INT64: [8, (b, v: bigint, o) => b.writeBigInt64LE(v, o)],
  };
  const [size, write] = writers[datatype]!;
  const buffer = Buffer.alloc(size * values.length);
  values.forEach((v, i) => write(buffer, v as never, i * size));
  return buffer;
}


const gentooRaw = () => {
  const raw = Buffer.alloc(16);
  GENTOO_FEATURES.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return raw;
};
const gentooRequest = (extra: Record<string, unknown> = {}) => ({ model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [gentooRaw()], ...extra });
const floats = (bytes: Buffer) => [...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))];

/** The newest rows matching the query, once `count` of them pass `wanted` (rows are written in batches every 500 ms). */
async function logsWhere(query: string, count: number, wanted: (row: LogRows['logs'][number]) => boolean = () => true): Promise<LogRows['logs']> {
  let rows: LogRows['logs'] = [];
  for (let tries = 0; tries < 50 && rows.filter(wanted).length < count; tries++) {
    await sleep(100);
    rows = ((await (await server.request('GET', `/api/logs?${query}&limit=100`)).json()) as LogRows).logs;
  }
  return rows.filter(wanted);
}

describe('every RPC of inference.GRPCInferenceService', () => {
  test('ServerLive and ServerReady answer without a key (like /v2/health/*); ServerMetadata needs one', async () => {
    assert.deepEqual((await client.call('ServerLive', {}, { key: null })).response, { live: true });
    assert.deepEqual((await client.call('ServerReady', {}, { key: null })).response, { ready: true });
    const metadata = await client.call('ServerMetadata', {});
    assert.deepEqual(metadata.response, { name: 'inferbox', version: JSON.parse(await readFile(join(import.meta.dirname, '../../../package.json'), 'utf8')).version, extensions: ['binary_tensor_data'] });
    assert.equal((await client.call('ServerMetadata', {}, { key: null })).error?.code, status.UNAUTHENTICATED);
  });

  test('ModelReady and ModelMetadata agree with REST, versions included', async () => {
    assert.deepEqual((await client.call('ModelReady', { name: 'mlp' })).response, { ready: true });
    assert.deepEqual((await client.call('ModelReady', { name: 'mlp', version: '1' })).response, { ready: true });
    const grpc = (await client.call<{ name: string; versions: string[]; platform: string; inputs: { name: string; datatype: string; shape: string[] }[]; properties: Record<string, string> }>('ModelMetadata', { name: 'mlp' })).response!;
    const rest = (await (await server.request('GET', '/v2/models/mlp')).json()) as { name: string; versions: string[]; platform: string; inputs: { name: string; datatype: string; shape: number[] }[] };
    assert.deepEqual({ ...grpc, inputs: grpc.inputs.map((t) => ({ ...t, shape: t.shape.map(Number) })), outputs: undefined, properties: undefined }, { ...rest, outputs: undefined, properties: undefined });
    assert.deepEqual(grpc.properties, {}, "the OIP spec's optional properties map (field 6) is there, empty");
    assert.deepEqual(grpc.inputs[0], { name: 'features', datatype: 'FP32', shape: ['-1', '4'] }, 'shape is int64: -1 marks the dynamic dimension');
    const versioned = await client.call('ModelMetadata', { name: 'identity', version: '1' });
    assert.equal((versioned.response as { inputs: unknown[] }).inputs.length, SAMPLES.length);
  });

  test('ModelInfer with raw contents answers what REST answers, in raw_output_contents, with the request id in the metadata and the log', async () => {
    const answer = await client.call<InferResponse>('ModelInfer', gentooRequest({ id: 'call-1' }), { metadata: { 'x-request-id': 'grpc-request-1' } });
    assert.equal(answer.error, null);
    const response = answer.response!;
    assert.deepEqual([response.model_name, response.model_version, response.id], ['mlp', '1', 'call-1']);
    assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape]), [['probabilities', 'FP32', ['1', '3']], ['label', 'INT64', ['1']]]);
    assert.equal(response.parameters.precision?.string_param, 'fp32');
    const rest = (await (await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } })).json()) as { outputs: { data: number[] }[] };
    assert.deepEqual(floats(response.raw_output_contents[0]!), rest.outputs[0]!.data);
    assert.equal(response.raw_output_contents[1]!.readBigInt64LE(0), BigInt(rest.outputs[1]!.data[0]!));
    assert.equal(answer.headers?.get('x-request-id')[0], 'grpc-request-1');
    const [row] = await logsWhere('model=mlp', 1, (r) => r.request_id === 'grpc-request-1');
    assert.ok(row, 'the gRPC request is in the request log');
    assert.deepEqual([row.status, row.version, row.error], [200, '1', null]);
    assert.ok(row.bytes_in > 16 && row.bytes_out > 16, `message sizes logged: ${row.bytes_in} in, ${row.bytes_out} out`);
  });

  test('only the outputs asked for come back, in the order asked', async () => {
    const response = (await client.call<InferResponse>('ModelInfer', gentooRequest({ outputs: [{ name: 'label' }] }))).response!;
    assert.deepEqual(response.outputs.map((o) => o.name), ['label']);
    assert.equal(response.raw_output_contents.length, 1);
    assert.equal(response.raw_output_contents[0]!.length, 8);
  });

  test('trace context as over REST: the caller\'s traceparent continues (answered in the metadata, trailers on errors) and the trace id is logged', async () => {
    const callerTrace = '0af7651916cd43dd8448eb211c80319c';
    const metadata = { traceparent: `00-${callerTrace}-b7ad6b7169203331-01`, tracestate: 'vendor=opaque' };
    const answer = await client.call('ModelInfer', gentooRequest(), { metadata: { ...metadata, 'x-request-id': 'grpc-traced-1' } });
    assert.equal(answer.error, null);
    const traceparent = String(answer.headers?.get('traceparent')[0]);
    assert.match(traceparent, new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`), 'same trace, this server\'s span');
    assert.notEqual(traceparent, metadata.traceparent);
    assert.equal(answer.headers?.get('tracestate')[0], 'vendor=opaque');
    const refused = await client.call('ModelInfer', gentooRequest({ model_name: 'nope' }), { metadata });
    assert.equal(refused.error?.code, status.NOT_FOUND);
    assert.match(String(refused.trailers?.get('traceparent')[0]), new RegExp(`^00-${callerTrace}-`));
    const rows = await logsWhere(`trace_id=${callerTrace}`, 2);
    assert.deepEqual(rows.map((r) => r.status).sort(), [200, 404]);
    assert.ok(rows.some((r) => r.request_id === 'grpc-traced-1'));
    const untraced = await client.call('ModelInfer', gentooRequest());
    assert.match(String(untraced.headers?.get('traceparent')[0]), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'a new trace without one');
  });
});

describe('datatypes', () => {
  test('every datatype round-trips through raw_input_contents and raw_output_contents, bytes identical (BYTES length-prefixed)', async () => {
    const inputs = SAMPLES.map(([dtype, datatype]) => ({ name: `in_${dtype}`, datatype, shape: [3] }));
    const answer = await client.call<InferResponse>('ModelInfer', { model_name: 'identity', inputs, raw_input_contents: SAMPLES.map(([, d, v]) => rawOf(d, v)) });
    assert.equal(answer.error, null, answer.error?.details);
    const { outputs, raw_output_contents } = answer.response!;
    assert.equal(outputs.length, SAMPLES.length);
    outputs.forEach((output, i) => {
      const [, datatype, values] = SAMPLES.find(([dtype]) => output.name === `out_${dtype}`)!;
      assert.equal(output.datatype, datatype);
      assert.deepEqual(output.shape, ['3']);
      assert.deepEqual(raw_output_contents[i], rawOf(datatype, values), output.name);
    });
  });

  test('typed contents: every datatype that has an InferTensorContents field, 64-bit extremes exact', async () => {
    const typed: Record<string, Record<string, unknown[]>> = {
      BOOL: { bool_contents: [true, false, true] }, UINT8: { uint_contents: [0, 7, 255] }, UINT16: { uint_contents: [0, 1, 65535] },
      UINT32: { uint_contents: [0, 1, 4294967295] }, UINT64: { uint64_contents: ['0', '1', '18446744073709551615'] }, INT8: { int_contents: [-128, 0, 127] },
      INT16: { int_contents: [-32768, 0, 32767] }, INT32: { int_contents: [-2147483648, 0, 2147483647] }, INT64: { int64_contents: ['-9223372036854775808', '0', '9223372036854775807'] },
      FP32: { fp32_contents: [0.5, -3.25, 1e30] }, FP64: { fp64_contents: [Math.PI, -1e300, 0] }, BYTES: { bytes_contents: ['héllo', '', 'binary'].map((s) => Buffer.from(s)) },
    };
    const chosen = SAMPLES.filter(([, datatype]) => datatype !== 'FP16');
    const inputs = chosen.map(([dtype, datatype]) => ({ name: `in_${dtype}`, datatype, shape: [3], contents: typed[datatype] }));
    const outputs = chosen.map(([dtype]) => ({ name: `out_${dtype}` }));
    const answer = await client.call<InferResponse>('ModelInfer', { model_name: 'typed', inputs, outputs });
    assert.equal(answer.error, null, answer.error?.details);
    chosen.forEach(([dtype, datatype, values], i) => {
      assert.equal(answer.response!.outputs[i]!.name, `out_${dtype}`);
      assert.deepEqual(answer.response!.raw_output_contents[i], rawOf(datatype, values), dtype);
    });
  });

  test('FP16 only as raw: typed contents are refused with INVALID_ARGUMENT', async () => {
    const answer = await client.call('ModelInfer', { model_name: 'identity', inputs: [{ name: 'in_float16', datatype: 'FP16', shape: [1], contents: { uint_contents: [0x3c00] } }], outputs: [{ name: 'out_float16' }] });
    assert.equal(answer.error?.code, status.INVALID_ARGUMENT);
    assert.match(answer.error!.details, /FP16 data can only be sent in raw_input_contents/);
  });
});

describe('errors map to gRPC status codes', () => {
  const expectCode = async (request: object, code: status, pattern: RegExp, key?: string | null) => {
    const answer = await client.call('ModelInfer', request, key === undefined ? {} : { key });
    assert.equal(answer.error?.code, code, `${answer.error?.details}`);
    assert.match(answer.error!.details, pattern);
    assert.ok(answer.trailers?.get('x-request-id')[0], 'the request id comes back with errors too');
  };

  test('INVALID_ARGUMENT: bad shape, datatype, element count, raw entries, mixed raw and typed contents, empty model_name; messages name the gRPC fields', async () => {
    await expectCode(gentooRequest({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 5] }] }), status.INVALID_ARGUMENT, /shape \[1,5\] does not fit the model's shape \[-1,4\]/);
    await expectCode(gentooRequest({ inputs: [{ name: 'features', datatype: 'FP64', shape: [1, 4] }] }), status.INVALID_ARGUMENT, /datatype FP64 does not match the model's FP32/);
    await expectCode(gentooRequest({ inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4] }] }), status.INVALID_ARGUMENT, /input 'features': shape \[2,4\] of FP32 needs 32 bytes but raw_input_contents\[0\] gives 16$/);
    await expectCode(gentooRequest({ raw_input_contents: [gentooRaw(), gentooRaw()] }), status.INVALID_ARGUMENT, /raw_input_contents has 2 entries for 1 inputs/);
    await expectCode(gentooRequest({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: GENTOO_FEATURES } }] }), status.INVALID_ARGUMENT, /has contents while raw_input_contents is used/);
    await expectCode({ model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp64_contents: GENTOO_FEATURES } }] }, status.INVALID_ARGUMENT, /FP32 data goes in contents.fp32_contents, not in fp64_contents/);
    await expectCode({ model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2] } }] }, status.INVALID_ARGUMENT, /needs 4 elements but contents.fp32_contents has 2$/);
    const nan = Buffer.alloc(16);
    nan.writeFloatLE(Number.NaN, 4);
    await expectCode(gentooRequest({ raw_input_contents: [nan] }), status.INVALID_ARGUMENT, /element 1 is not a valid FP32/);
    await expectCode({ model_name: '', inputs: [] }, status.INVALID_ARGUMENT, /model_name is empty/);
    await expectCode(gentooRequest({ model_version: 'one' }), status.INVALID_ARGUMENT, /invalid version 'one'/);
  });

  test('NOT_FOUND: unknown model or version, in every model RPC', async () => {
    await expectCode(gentooRequest({ model_name: 'nope' }), status.NOT_FOUND, /model 'nope' not found/);
    await expectCode(gentooRequest({ model_version: '9' }), status.NOT_FOUND, /model 'mlp' has no version '9'/);
    assert.equal((await client.call('ModelReady', { name: 'nope' })).error?.code, status.NOT_FOUND);
    assert.equal((await client.call('ModelMetadata', { name: 'mlp', version: '9' })).error?.code, status.NOT_FOUND);
  });

  test('UNAVAILABLE: an unloaded version; ModelReady says not ready, and ServerReady too (it is the active version)', async () => {
    assert.equal((await server.request('POST', '/api/models/identity/versions/1/unload')).status, 200);
    try {
      assert.deepEqual((await client.call('ModelReady', { name: 'identity' })).response, { ready: false });
      assert.deepEqual((await client.call('ServerReady', {}, { key: null })).response, { ready: false });
      await expectCode({ model_name: 'identity', inputs: [{ name: 'in_int8', datatype: 'INT8', shape: [1] }], raw_input_contents: [Buffer.from([1])], outputs: [{ name: 'out_int8' }] }, status.UNAVAILABLE, /is not ready \(state: unloaded\)/);
    } finally {
      assert.equal((await server.request('POST', '/api/models/identity/versions/1/load')).status, 200);
    }
  });

  test('UNAUTHENTICATED without or with a wrong key; PERMISSION_DENIED for a key scoped to another model', async () => {
    await expectCode(gentooRequest(), status.UNAUTHENTICATED, /./, null);
    await expectCode(gentooRequest(), status.UNAUTHENTICATED, /./, 'ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const created = (await (await server.request('POST', '/api/keys', { json: { name: 'identity-only', scopes: ['infer:identity'] } })).json()) as { key: string };
    await expectCode(gentooRequest(), status.PERMISSION_DENIED, /does not have the 'infer' or 'infer:mlp' scope/, created.key);
    assert.equal((await client.call('ModelMetadata', { name: 'mlp' }, { key: created.key })).error?.code, status.PERMISSION_DENIED);
    assert.equal((await client.call('ServerMetadata', {}, { key: created.key })).error?.code, status.PERMISSION_DENIED, 'as GET /v2: a model-scoped key names no model');
    assert.deepEqual((await client.call('ModelReady', { name: 'identity' }, { key: created.key })).response, { ready: true }, 'its own model is fine');
  });

  test('RESOURCE_EXHAUSTED with retry-after: a key over its rate limit (logged with the key), and a message over max_infer_body_bytes', async () => {
    const limited = (await (await server.request('POST', '/api/keys', { json: { name: 'limited', scopes: ['infer'], rate_limit_per_second: 1, rate_limit_burst: 1 } })).json()) as { id: string; key: string };
    assert.equal((await client.call('ModelInfer', gentooRequest(), { key: limited.key })).error, null);
    const refused = await client.call('ModelInfer', gentooRequest(), { key: limited.key });
    assert.equal(refused.error?.code, status.RESOURCE_EXHAUSTED);
    assert.match(refused.error!.details, /the key 'limited' is over its rate limit of 1 requests\/s/);
    assert.equal(refused.trailers?.get('retry-after')[0], '1');
    const rows = await logsWhere(`key_id=${limited.id}`, 2);
    assert.deepEqual(rows.map((r) => r.status).sort(), [200, 429]);

    assert.equal((await server.request('PUT', '/api/settings', { json: { max_infer_body_bytes: 1024 } })).status, 200);
    try {
      const big = { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [64, 4] }], raw_input_contents: [Buffer.alloc(64 * 16)] };
      await expectCode(big, status.RESOURCE_EXHAUSTED, /larger than the limit of 1024 bytes/);
    } finally {
      assert.equal((await server.request('PUT', '/api/settings', { json: { max_infer_body_bytes: null } })).status, 200);
    }
  });
});

test('experiments route unversioned gRPC requests like REST: variant in the metadata and the response parameters, a named version bypasses', async () => {
  const v2 = ((await (await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } })).json()) as { version: string }).version;
  const experiment = (await (await server.request('POST', '/api/experiments', { json: { name: 'grpc', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }] } })).json()) as { id: string };
  assert.equal((await server.request('POST', `/api/experiments/${experiment.id}/start`)).status, 200);
  try {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const answer = await client.call<InferResponse>('ModelInfer', gentooRequest(), { metadata: { 'x-unit-id': `unit-${i}` } });
      assert.equal(answer.error, null);
      const variant = answer.headers?.get('inferbox-variant')[0] as string;
      assert.match(variant, new RegExp(`^${experiment.id}/(control|candidate)$`));
      const { parameters, model_version, id } = answer.response!;
      assert.equal(`${parameters.experiment?.string_param}/${parameters.variant?.string_param}`, variant);
      assert.equal(model_version, variant.endsWith('/control') ? '1' : v2);
      assert.equal(id, parameters.request_id?.string_param, 'the request id names the request for feedback');
      seen.add(variant);
      const again = await client.call<InferResponse>('ModelInfer', gentooRequest(), { metadata: { 'x-unit-id': `unit-${i}` } });
      assert.equal(again.headers?.get('inferbox-variant')[0], variant, 'sticky per unit');
    }
    assert.equal(seen.size, 2, 'both variants serve');
    const versioned = await client.call<InferResponse>('ModelInfer', gentooRequest({ model_version: '1' }), { metadata: { 'x-unit-id': 'unit-0' } });
    assert.deepEqual([versioned.headers?.get('inferbox-variant').length, versioned.response!.parameters.experiment], [0, undefined]);
    const rows = await logsWhere('model=mlp', 60, (r) => r.experiment_id === experiment.id);
    assert.ok(rows.length >= 60, `experiment requests are logged with the experiment (${rows.length})`);
  } finally {
    assert.equal((await server.request('POST', `/api/experiments/${experiment.id}/stop`)).status, 200);
  }
});

test('failed authentication over gRPC counts against the peer address, shared with REST; valid keys are still served (last: it throttles 127.0.0.1)', async () => {
  const settings = (json: object) => requestFrom('127.0.0.2', `${server.baseUrl}/api/settings`, { method: 'PUT', headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
  assert.equal((await settings({ auth_failures_before_backoff: 2, auth_backoff_initial_seconds: 30 })).status, 200);
  const unblock = () => requestFrom('127.0.0.2', `${server.baseUrl}/api/security/blocked-addresses/127.0.0.1`, { method: 'DELETE', headers: { authorization: `Bearer ${server.adminKey}` } });
  await unblock(); // forget the failures the tests above made on purpose
  try {
    for (let i = 0; i < 2; i++) assert.equal((await client.call('ServerMetadata', {}, { key: 'wrong' })).error?.code, status.UNAUTHENTICATED);
    const throttled = await client.call('ServerMetadata', {}, { key: 'wrong' });
    assert.equal(throttled.error?.code, status.RESOURCE_EXHAUSTED, 'a wrong key is refused while the address waits');
    assert.match(throttled.error!.details, /too many failed authentication attempts from 127\.0\.0\.1/);
    assert.ok(Number(throttled.trailers?.get('retry-after')[0]) > 0);
    assert.equal((await client.call('ServerMetadata', {})).error, null, 'a valid key is served meanwhile');
    assert.equal((await server.request('GET', '/api/system', { key: 'wrong' })).status, 429, 'REST from the same address waits too');
    assert.equal((await server.request('GET', '/api/system')).status, 200, 'and serves valid keys');
    assert.deepEqual((await client.call('ServerLive', {}, { key: null })).response, { live: true }, 'public RPCs stay open');
  } finally {
    assert.equal((await unblock()).status, 200);
    await settings({ auth_failures_before_backoff: null, auth_backoff_initial_seconds: null });
  }
});
