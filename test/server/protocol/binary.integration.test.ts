import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildModel, type ElementType } from '../../../models/lib/onnxGraph.js';
import { IDENTITY_SAMPLES as SAMPLES, identityModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  const upload = await server.request('POST', '/api/models/identity/versions?quantize=false', { body: identityModel(), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
});
after(() => server.cleanup());

/** The client side of the binary tensor extension, written from the spec independently of the server's code. */
function encode(datatype: string, values: unknown[]): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat((values as string[]).flatMap((s) => {
      const bytes = Buffer.from(s);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }));
  }
  const writers: Record<string, [number, (b: Buffer, v: never, o: number) => unknown]> = {
    BOOL: [1, (b, v: boolean, o) => b.writeUInt8(v ? 1 : 0, o)],
    UINT8: [1, (b, v: number, o) => b.writeUInt8(v, o)], INT8: [1, (b, v: number, o) => b.writeInt8(v, o)],
    UINT16: [2, (b, v: number, o) => b.writeUInt16LE(v, o)], INT16: [2, (b, v: number, o) => b.writeInt16LE(v, o)],
    FP16: [2, (b, v: number, o) => b.writeUInt16LE(v, o)],
    UINT32: [4, (b, v: number, o) => b.writeUInt32LE(v, o)], INT32: [4, (b, v: number, o) => b.writeInt32LE(v, o)],
    FP32: [4, (b, v: number, o) => b.writeFloatLE(v, o)], FP64: [8, (b, v: number, o) => b.writeDoubleLE(v, o)],
    UINT64: [8, (b, v: bigint, o) => b.writeBigUInt64LE(v, o)], INT64: [8, (b, v: bigint, o) => b.writeBigInt64LE(v, o)],
  };
  const [size, write] = writers[datatype]!;
  const buffer = Buffer.alloc(size * values.length);
  values.forEach((v, i) => write(buffer, v as never, i * size));
  return buffer;
}

async function binaryInfer(path: string, header: object, parts: Buffer[], headerLength?: string): Promise<{ status: number; json: Record<string, unknown>; rest: Buffer }> {
  const json = Buffer.from(JSON.stringify(header));
  const response = await server.request('POST', path, {
    body: Buffer.concat([json, ...parts]),
    headers: { 'inference-header-content-length': headerLength ?? String(json.length), 'content-type': 'application/octet-stream' },
  });
  const raw = Buffer.from(await response.arrayBuffer());
  const length = Number(response.headers.get('inference-header-content-length') ?? raw.length);
  return { status: response.status, json: JSON.parse(raw.subarray(0, length).toString()) as Record<string, unknown>, rest: raw.subarray(length) };
}


test('every datatype round-trips as binary input and binary output, bytes identical', async () => {
  const inputs = SAMPLES.map(([dtype, datatype, values]) => ({ name: `in_${dtype}`, datatype, shape: [3], parameters: { binary_data_size: encode(datatype, values).length } }));
  const { status, json, rest } = await binaryInfer('/v2/models/identity/infer', { inputs, parameters: { binary_data_output: true } }, SAMPLES.map(([, d, v]) => encode(d, v)));
  assert.equal(status, 200, JSON.stringify(json));
  const outputs = json.outputs as { name: string; datatype: string; shape: number[]; parameters: { binary_data_size: number }; data?: unknown }[];
  let offset = 0;
  for (const output of outputs) {
    const [, datatype, values] = SAMPLES.find(([dtype]) => output.name === `out_${dtype}`)!;
    assert.equal(output.datatype, datatype);
    assert.deepEqual(output.shape, [3]);
    assert.equal(output.data, undefined, 'binary outputs carry no JSON data');
    const bytes = rest.subarray(offset, offset + output.parameters.binary_data_size);
    assert.deepEqual(bytes, encode(datatype, values), output.name);
    offset += output.parameters.binary_data_size;
  }
  assert.equal(offset, rest.length);
});

test('binary inputs with JSON outputs, and one binary output asked for by name', async () => {
  const features = Buffer.alloc(16);
  GENTOO_FEATURES.forEach((v, i) => features.writeFloatLE(v, i * 4));
  const asJson = await binaryInfer('/v2/models/mlp/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }, [features]);
  assert.equal(asJson.status, 200);
  assert.deepEqual((asJson.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'label')!.data, [2]);
  const oneBinary = await binaryInfer('/v2/models/mlp/infer', {
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
    outputs: [{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities' }],
  }, [features]);
  const [label, probabilities] = oneBinary.json.outputs as { parameters?: { binary_data_size: number }; data?: number[] }[];
  assert.equal(label!.parameters!.binary_data_size, 8);
  assert.equal(oneBinary.rest.readBigInt64LE(0), 2n);
  assert.equal(probabilities!.data!.length, 3);
});

test('malformed binary requests are 400s that say what is wrong, and the server carries on', async () => {
  const input = (size: number) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size } }] });
  const cases: [object, Buffer[], string | undefined, RegExp][] = [
    [input(16), [Buffer.alloc(16)], '999999', /beyond the \d+-byte body/],
    [input(16), [Buffer.alloc(16)], '-5', /not a byte count/],
    [input(16), [Buffer.alloc(16)], 'ten', /not a byte count/],
    [input(32), [Buffer.alloc(16)], undefined, /runs past the 16 bytes/],
    [input(12), [Buffer.alloc(12)], undefined, /needs 16 bytes but binary_data_size gives 12/],
    [input(16), [Buffer.alloc(20)], undefined, /4 bytes after the JSON header belong to no input/],
    [{ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }] }, [], undefined, /either data or parameters.binary_data_size/],
    [input(16), [Buffer.from(new Float32Array([1, NaN, 2, 3]).buffer)], undefined, /element 1 .*NaN/],
  ];
  for (const [header, parts, length, message] of cases) {
    const { status, json } = await binaryInfer('/v2/models/mlp/infer', header, parts, length).catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    assert.equal(status, 400, `${String(message)}: ${JSON.stringify(json)}`);
    assert.match(String(json.error), message);
  }
  const truncatedBytes = Buffer.from([5, 0, 0, 0, 104, 105]);
  const bytesCase = await binaryInfer('/v2/models/identity/infer', {
    inputs: SAMPLES.map(([dtype, datatype, values]) => ({ name: `in_${dtype}`, datatype, shape: [dtype === 'string' ? 1 : 3], parameters: { binary_data_size: dtype === 'string' ? truncatedBytes.length : encode(datatype, values).length } })),
  }, SAMPLES.map(([dtype, d, v]) => (dtype === 'string' ? truncatedBytes : encode(d, v))));
  assert.equal(bytesCase.status, 400);
  assert.match(String(bytesCase.json.error), /BYTES element 0 runs past the end/);
  assert.equal((await server.request('GET', '/v2/health/live', { key: null })).status, 200);
});

/** A one-input Identity model (`x` → `y`) of one element type and shape. */
function oneInputIdentity(name: string, type: ElementType, shape: (number | string)[]): Uint8Array {
  return buildModel({ graphName: name, inputs: [{ name: 'x', type, shape }], outputs: [{ name: 'y', type, shape }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], producer: { name: 'test', version: '1' } });
}

async function upload(name: string, model: Uint8Array): Promise<void> {
  const response = await server.request('POST', `/api/models/${name}/versions?quantize=false`, { body: model, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(response.status, 201, await response.clone().text());
}

/** The raw form: the body is the input's bytes and nothing else. */
async function rawInfer(model: string, body: Buffer): Promise<{ status: number; headerLength: string | null; json: Record<string, unknown>; rest: Buffer }> {
  const response = await server.request('POST', `/v2/models/${model}/infer`, { body, headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' } });
  const raw = Buffer.from(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const length = Number(headerLength ?? raw.length);
  return { status: response.status, headerLength, json: JSON.parse(raw.subarray(0, length).toString()) as Record<string, unknown>, rest: raw.subarray(length) };
}

test("the raw form (Inference-Header-Content-Length: 0): the single input's bytes, its one dynamic dimension from the byte count, every output as binary", async () => {
  const features = encode('FP32', [...GENTOO_FEATURES, ...GENTOO_FEATURES]);
  for (const rows of [1, 2]) {
    const { status, headerLength, json, rest } = await rawInfer('mlp', features.subarray(0, rows * 16));
    assert.equal(status, 200, JSON.stringify(json));
    assert.ok(headerLength, 'the answer is the binary extension: a JSON header, then the outputs');
    const outputs = json.outputs as { name: string; datatype: string; shape: number[]; parameters: { binary_data_size: number }; data?: unknown }[];
    assert.deepEqual(outputs.map((o) => [o.name, o.shape, o.parameters.binary_data_size, o.data]).sort(), [['label', [rows], rows * 8, undefined], ['probabilities', [rows, 3], rows * 12, undefined]]);
    const label = outputs.findIndex((o) => o.name === 'label');
    const offset = outputs.slice(0, label).reduce((sum, o) => sum + o.parameters.binary_data_size, 0);
    assert.deepEqual(Array.from({ length: rows }, (_, i) => rest.readBigInt64LE(offset + i * 8)), Array(rows).fill(2n), 'a Gentoo, each row');
  }
  // A BYTES input that holds one element takes the whole body as that element (Triton: shape [1]).
  await upload('raw-text', oneInputIdentity('raw-text', 'string', [1]));
  const text = await rawInfer('raw-text', Buffer.from('héllo raw'));
  assert.equal(text.status, 200, JSON.stringify(text.json));
  assert.deepEqual(text.rest, encode('BYTES', ['héllo raw']));
});

test('the raw form refuses what it cannot size, with a 400 that says why; a binary body without the header says the header is missing', async () => {
  await upload('raw-2d', oneInputIdentity('raw-2d', 'float32', ['a', 'b']));
  await upload('raw-texts', oneInputIdentity('raw-texts', 'string', ['n', 2]));
  const cases: [string, Buffer, RegExp][] = [
    ['mlp', Buffer.alloc(15), /cannot be used with model 'mlp': the body's 15 bytes are not a whole number of FP32 slices of shape \[4\] \(16 bytes each\)/],
    ['mlp', Buffer.alloc(0), /the body is empty/],
    ['identity', Buffer.alloc(4), /it is for models with one input, and it has \d+/],
    ['raw-2d', Buffer.alloc(16), /shape \[-1,-1\], and only one dimension of any size can follow from the byte count/],
    ['raw-texts', Buffer.from('ab'), /BYTES input 'x' has shape \[-1,2\], and the body can only be one element/],
  ];
  for (const [model, body, message] of cases) {
    const { status, json } = await rawInfer(model, body);
    assert.equal(status, 400, `${model}: ${JSON.stringify(json)}`);
    assert.match(String(json.error), message);
    assert.match(String(json.error), /send a JSON header/);
  }
  // Binary bodies without the header, small and large (a large one is decoded off the HTTP thread).
  for (const size of [16, 64 * 1024]) {
    const response = await server.request('POST', '/v2/models/mlp/infer', { body: Buffer.alloc(size, 0x41), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /the body is not JSON and came without the inference-header-content-length header/, `${size} bytes`);
  }
  // A JSON body with a syntax error still says where.
  const broken = await server.request('POST', '/v2/models/mlp/infer', { body: '{"inputs": [', headers: { 'content-type': 'application/json' } });
  assert.match(((await broken.json()) as { error: string }).error, /syntax error/);
});
