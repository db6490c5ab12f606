/**
 * Requests and checks shared by the decodeJsonInferBody and JsonDecodePool tests: every case is
 * compared with what the server does today, decodeInferRequest(parseJsonText(utf8 body)).
 */
import assert from 'node:assert/strict';
import type { OipDatatype, TensorSpec } from '../../../server/common/datatypes.js';
import { InferboxError } from '../../../server/common/errors.js';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { encodeBinaryTensor } from '../../../server/serving/binaryTensors.js';
import { decodeInferRequest, type DecodedInferRequest, type ModelSignature } from '../../../server/serving/decodeInferRequest.js';
import { parseJsonText } from '../../../server/common/parseJsonText.js';

export interface Case {
  name: string;
  body: Buffer;
  signature: ModelSignature;
  binary?: Buffer;
}

/** The reference: the general path, as the server composes it today. */
export function general(c: Pick<Case, 'body' | 'signature' | 'binary'>): DecodedInferRequest {
  return decodeInferRequest(parseJsonText(c.body.toString('utf8'), 'the body'), c.signature, c.binary);
}

export type Outcome = { ok: true; value: DecodedInferRequest } | { ok: false; error: unknown };

export function outcomeOf(run: () => DecodedInferRequest): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function asyncOutcomeOf(run: () => Promise<DecodedInferRequest>): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** Same fields, same tensors bit for bit, feeds without a prototype. */
export function assertSameDecoded(actual: DecodedInferRequest, expected: DecodedInferRequest, label = ''): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), label);
  assert.equal(actual.id, expected.id, label);
  assert.deepEqual(actual.outputNames, expected.outputNames, label);
  assert.ok(actual.binaryOutputs instanceof Set, label);
  assert.deepEqual([...actual.binaryOutputs], [...expected.binaryOutputs], label);
  assert.equal(actual.timeoutMicros, expected.timeoutMicros, label);
  assert.equal(Object.getPrototypeOf(actual.feeds), null, `${label}: feeds have no prototype`);
  assert.deepEqual(Object.keys(actual.feeds), Object.keys(expected.feeds), label);
  for (const name of Object.keys(expected.feeds)) {
    const a = actual.feeds[name]!, e = expected.feeds[name]!;
    assert.equal(a.type, e.type, `${label}: ${name}`);
    assert.deepEqual(a.dims, e.dims, `${label}: ${name}`);
    assert.equal(a.data.constructor, e.data.constructor, `${label}: ${name}`);
    if (Array.isArray(e.data)) assert.deepEqual(a.data, e.data, `${label}: ${name}`);
    else assert.equal(Buffer.compare(bytesOf(a.data as ArrayBufferView), bytesOf(e.data)), 0, `${label}: ${name} differs`);
  }
}

/** An equal InferboxError (class, code, status, message, headers), or for anything else the same class and message. */
export function assertSameError(actual: unknown, expected: unknown, label = ''): void {
  if (expected instanceof InferboxError) {
    assert.ok(actual instanceof InferboxError, `${label}: expected an InferboxError, got ${String(actual)}`);
    assert.equal(actual.name, expected.name, label);
    assert.equal(actual.code, expected.code, label);
    assert.equal(actual.status, expected.status, label);
    assert.equal(actual.message, expected.message, label);
    assert.deepEqual(actual.headers, expected.headers, label);
  } else {
    assert.ok(!(actual instanceof InferboxError), label);
    assert.equal((actual as Error).message, (expected as Error).message, label);
  }
}

export function assertSameOutcome(actual: Outcome, expected: Outcome, label = ''): void {
  if (expected.ok) {
    assert.ok(actual.ok, `${label}: expected a result, got ${actual.ok ? '' : String(actual.error)}`);
    assertSameDecoded(actual.value, expected.value, label);
  } else {
    assert.ok(!actual.ok, `${label}: expected ${String(expected.error)}, got a result`);
    assertSameError(actual.error, expected.error, label);
  }
}

// ---------------------------------------------------------------------------------------------

const json = (value: unknown, space?: number) => Buffer.from(JSON.stringify(value, null, space));
const spec = (name: string, datatype: OipDatatype, shape: number[]): TensorSpec => ({ name, datatype, shape });
export const oneInput = (datatype: OipDatatype, shape: number[] = [-1], name = 'v'): ModelSignature => ({
  name: 'm', inputs: [spec(name, datatype, shape)], outputs: [spec('out', 'FP32', [-1])],
});

/** Random float32 values widened to double: what numpy's tolist() and Array.from(Float32Array) send. */
export function float32s(count: number, seed: number, scale = 2): number[] {
  const random = mulberry32(seed);
  return Array.from(new Float32Array(count).map(() => (random() - 0.5) * scale));
}

export const OCR_SHAPE = [1, 3, 48, 192];
export const ocrSignature: ModelSignature = { name: 'ocr-cls', inputs: [spec('x', 'FP32', [-1, 3, 48, 192])], outputs: [spec('softmax', 'FP32', [-1, 2])] };
const ocrData = float32s(27648, 1);
const nest = (flat: number[], shape: number[]): unknown => {
  if (shape.length === 1) return flat;
  const size = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), shape.slice(1)));
};
export const ocrBody = (data: unknown = ocrData, extra: Record<string, unknown> = {}) =>
  json({ id: 'ocr-1', inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data, ...extra }] });

const mixed: ModelSignature = {
  name: 'mixed',
  inputs: [spec('x', 'FP32', [-1, 2]), spec('ids', 'INT64', [-1])],
  outputs: [spec('y', 'FP32', [-1, 1]), spec('z', 'INT64', [-1])],
};
const x = (data: unknown[], overrides: Record<string, unknown> = {}) => ({ name: 'x', datatype: 'FP32', shape: [data.length / 2, 2], data, ...overrides });
const ids = (data: unknown[], overrides: Record<string, unknown> = {}) => ({ name: 'ids', datatype: 'INT64', shape: [data.length], data, ...overrides });
const many = (count: number, f: (i: number) => unknown) => Array.from({ length: count }, (_, i) => f(i));

/** Valid requests: the decoder must give the general path's result. `fast`: the single-pass path must take it. */
export function validCases(): Array<Case & { fast: boolean }> {
  const ints = (min: number, max: number, n = 600) => {
    const random = mulberry32(n + min);
    return many(n, () => min + Math.floor(random() * (max - min + 1)));
  };
  const binaryX = encodeBinaryTensor({ type: 'float32', dims: [300, 2], data: new Float32Array(float32s(600, 9)) });
  return [
    { name: 'ocr-cls FP32, flat', body: ocrBody(), signature: ocrSignature, fast: true },
    { name: 'ocr-cls FP32, nested as numpy tolist() sends it', body: ocrBody(nest(ocrData, OCR_SHAPE)), signature: ocrSignature, fast: true },
    { name: 'ocr-cls FP32, pretty-printed', body: json({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: ocrData }] }, 2), signature: ocrSignature, fast: true },
    { name: 'ocr-cls FP32, 6 significant digits', body: ocrBody(ocrData.map((v) => Number(v.toPrecision(6)))), signature: ocrSignature, fast: true },
    { name: 'data before datatype, extra keys everywhere', body: Buffer.from(`{"extra":{"a":[1,2,{"b":null}]},"inputs":[{"data":[${ocrData.join(',')}],"shape":[1,3,48,192],"note":"ü\\n","datatype":"FP32","name":"x"}],"id":"\\u00e9\\"x"}`), signature: ocrSignature, fast: true },
    { name: 'whitespace around every token', body: Buffer.from(`\r\n {\t"inputs" : [ { "name" : "x" , "datatype" : "FP32" , "shape" : [ 1 , 3 , 48 , 192 ] , "data" : [ ${ocrData.join(' ,\n ')} ] } ] } \n`), signature: ocrSignature, fast: true },
    { name: 'small FP32 (decodeJsonInferBody uses the general path below 1 KB)', body: json({ inputs: [x([1, 2]), ids([7])] }), signature: mixed, fast: true },
    { name: 'FP32 and INT64 numbers, outputs subset, binary outputs, timeout, id', body: json({ id: 'r1', parameters: { binary_data_output: true, timeout: 5000 }, inputs: [x(float32s(400, 2)), ids(ints(-1e12, 1e12, 100))], outputs: [{ name: 'z', parameters: { binary_data: false } }, { name: 'y' }] }), signature: mixed, fast: true },
    { name: 'INT64 as decimal strings (the general path takes that input)', body: json({ inputs: [x(float32s(400, 3)), ids(['9223372036854775807', '-9223372036854775808', '9007199254740993', 5])] }), signature: mixed, fast: true },
    { name: 'FP64 random doubles', body: json({ inputs: [{ name: 'v', datatype: 'FP64', shape: [500], data: many(500, (i) => Math.sin(i) * 10 ** ((i % 40) - 20)) }] }), signature: oneInput('FP64'), fast: true },
    { name: 'FP64 shortest float32 values', body: json({ inputs: [{ name: 'v', datatype: 'FP64', shape: [500], data: float32s(500, 4) }] }), signature: oneInput('FP64'), fast: true },
    ...(['INT8', 'INT16', 'INT32', 'UINT8', 'UINT16', 'UINT32'] as const).map((datatype) => {
      const [min, max] = { INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 2147483647], UINT8: [0, 255], UINT16: [0, 65535], UINT32: [0, 4294967295] }[datatype];
      const data = [min!, max!, -0, 0, ...ints(min!, max!)];
      return { name: `${datatype} over its whole range`, body: json({ inputs: [{ name: 'v', datatype, shape: [data.length], data }] }), signature: oneInput(datatype), fast: true };
    }),
    { name: 'integers written as 1.0, 1e2, 0.5e1, 120e-1', body: Buffer.from(`{"inputs":[{"name":"v","datatype":"INT32","shape":[400],"data":[${many(400, (i) => ['1.0', '1e2', '-0', '0.5e1', '120e-1', '3.000000000000000000000000', '-2147483648.0', '2147483.647e3'][i % 8]).join(',')}]}]}`), signature: oneInput('INT32'), fast: true },
    { name: 'UINT64 and INT64 at 2^53', body: json({ inputs: [{ name: 'v', datatype: 'UINT64', shape: [300], data: many(300, (i) => (i % 2 ? 2 ** 53 - 1 : i)) }] }), signature: oneInput('UINT64'), fast: true },
    { name: 'INT64 numbers', body: json({ inputs: [{ name: 'v', datatype: 'INT64', shape: [300], data: many(300, (i) => (i % 2 ? -(2 ** 53 - 1) : i * 1e9)) }] }), signature: oneInput('INT64'), fast: true },
    { name: 'INT8 then FP32 then INT16 then FP64 (unaligned offsets in the binary part)', body: json({ inputs: [
      { name: 'a', datatype: 'INT8', shape: [3], data: [1, -2, 3] },
      { name: 'b', datatype: 'FP32', shape: [301], data: float32s(301, 5) },
      { name: 'c', datatype: 'INT16', shape: [5], data: [1, 2, 3, 4, -5] },
      { name: 'd', datatype: 'FP64', shape: [7], data: float32s(7, 6) },
    ] }), signature: { name: 'm', inputs: [spec('a', 'INT8', [-1]), spec('b', 'FP32', [-1]), spec('c', 'INT16', [-1]), spec('d', 'FP64', [-1])], outputs: [] }, fast: true },
    { name: 'FP16 numbers (the general path takes them)', body: json({ inputs: [{ name: 'v', datatype: 'FP16', shape: [300], data: float32s(300, 7, 100) }] }), signature: oneInput('FP16'), fast: false },
    { name: 'FP16 beside FP32 (the FP16 data is lifted, then handed back as JSON)', body: json({ inputs: [{ name: 'h', datatype: 'FP16', shape: [300], data: float32s(300, 7, 100) }, { name: 'f', datatype: 'FP32', shape: [300], data: float32s(300, 17) }] }), signature: { name: 'm', inputs: [spec('h', 'FP16', [-1]), spec('f', 'FP32', [-1])], outputs: [] }, fast: true },
    { name: 'invalid UTF-8 in a string (decoded as U+FFFD both ways)', body: Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe, 0xc3]), ocrBody().subarray(ocrBody().indexOf('",'))]), signature: ocrSignature, fast: true },
    { name: 'BOOL and BYTES (never lifted)', body: json({ inputs: [{ name: 'b', datatype: 'BOOL', shape: [300], data: many(300, (i) => i % 3 === 0) }, { name: 's', datatype: 'BYTES', shape: [2], data: ['ab', 'ü'] }] }), signature: { name: 'm', inputs: [spec('b', 'BOOL', [-1]), spec('s', 'BYTES', [-1])], outputs: [] }, fast: false },
    { name: "an input called '__proto__', another 'constructor'", body: json({ inputs: [{ name: '__proto__', datatype: 'FP32', shape: [300], data: float32s(300, 8) }, { name: 'constructor', datatype: 'FP32', shape: [1], data: [1] }] }), signature: { name: 'm', inputs: [spec('__proto__', 'FP32', [-1]), spec('constructor', 'FP32', [-1])], outputs: [] }, fast: true },
    { name: 'binary extension: a JSON header and its binary part', body: json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [300, 2], parameters: { binary_data_size: binaryX.length } }, ids(ints(0, 100, 200))] }), binary: binaryX, signature: mixed, fast: false },
    { name: "an escaped key that says 'data' (the general path takes it)", body: Buffer.from(`{"inputs":[{"name":"v","datatype":"FP32","shape":[300],"d\\u0061ta":[${float32s(300, 10).join(',')}]}]}`), signature: oneInput('FP32'), fast: false },
    { name: "two 'data' keys: JSON.parse keeps the last", body: Buffer.from(`{"inputs":[{"name":"v","datatype":"FP32","shape":[3],"data":[${float32s(300, 11).join(',')}],"data":[1,2,3]}]}`), signature: oneInput('FP32'), fast: false },
    { name: "two 'inputs' keys: JSON.parse keeps the last", body: Buffer.from(`{"inputs":[{"name":"v","datatype":"FP32","shape":[300],"data":[${float32s(300, 12).join(',')}]}],"inputs":[{"name":"v","datatype":"FP32","shape":[1],"data":[5]}]}`), signature: oneInput('FP32'), fast: false },
    { name: 'input parameters other than binary_data_size', body: json({ inputs: [{ name: 'v', datatype: 'FP32', shape: [300], parameters: JSON.parse('{"content_type":"x","__proto__":1}') as unknown, data: float32s(300, 13) }] }), signature: oneInput('FP32'), fast: true },
    { name: 'empty input parameters after the data', body: Buffer.from(`{"inputs":[{"name":"v","datatype":"FP32","shape":[300],"data":[${float32s(300, 13).join(',')}],"parameters":{}}]}`), signature: oneInput('FP32'), fast: true },
    { name: 'a binary input of 0 bytes beside a lifted one, no binary part', body: json({ inputs: [{ name: 'e', datatype: 'FP32', shape: [0], parameters: { binary_data_size: 0 } }, { name: 'v', datatype: 'FP32', shape: [300], data: float32s(300, 15) }] }), signature: { name: 'm', inputs: [spec('e', 'FP32', [-1]), spec('v', 'FP32', [-1])], outputs: [] }, fast: true },
    { name: 'zero elements', body: json({ id: 'x'.repeat(2000), inputs: [{ name: 'v', datatype: 'FP32', shape: [0], data: [] }] }), signature: oneInput('FP32'), fast: false },
  ];
}

/** Bad requests: the decoder must throw the general path's error, word for word. */
export function errorCases(): Case[] {
  const big = ocrBody().toString();
  const withElement = (index: number, token: string) => {
    const data = ocrData.map(String);
    data[index] = token;
    return Buffer.from(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3,48,192],"data":[${data.join(',')}]}]}`);
  };
  const ocr = (body: Buffer | string) => ({ body: Buffer.from(body), signature: ocrSignature });
  const binaryX = encodeBinaryTensor({ type: 'float32', dims: [1, 2], data: new Float32Array([1, 2]) });
  const nested = nest(ocrData, OCR_SHAPE) as number[][][][];
  return [
    { name: 'empty body', ...ocr('') },
    { name: 'whitespace only', ...ocr('  \n ') },
    { name: 'not JSON', ...ocr('nope') },
    { name: 'a trailing comma', ...ocr('{"inputs": [1,]}') },
    { name: 'a large body cut in half', ...ocr(big.slice(0, big.length / 2)) },
    { name: 'a large body with a stray byte in its data', ...ocr(big.replace(',', ',,')) },
    { name: 'a large body with a leading zero in its data', ...ocr(big.replace(/,-?0\./, ',01.')) },
    { name: 'a large body with "1." in its data', ...ocr(big.replace(/,(-?\d)\.\d+/, ',$1.')) },
    { name: 'a large body with a byte order mark', ...ocr(`\ufeff${big}`) },
    { name: 'a large body with junk after it', ...ocr(`${big} x`) },
    { name: 'JSON null', ...ocr('null') },
    { name: 'a JSON array', ...ocr(`[${big}]`) },
    { name: 'inputs not an array', ...ocr('{"inputs":"nope"}') },
    { name: 'no inputs', ...ocr(`{"inputs":[],"id":"${'x'.repeat(2000)}"}`) },
    { name: 'a negative dimension', ...ocr(big.replace('[1,3,48,192]', '[1,-3,48,192]')) },
    { name: 'no datatype', ...ocr(big.replace('"datatype":"FP32",', '')) },
    { name: 'data and binary_data_size', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":{"binary_data_size":4}')) },
    { name: 'data and binary_data_size 0', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":{"binary_data_size":0}')) },
    { name: 'data and an escaped binary_data_size', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":{"binary_data_s\\u0069ze":4}')) },
    { name: 'input parameters null', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":null')) },
    { name: 'input parameters an array', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":[]')) },
    { name: 'input parameters a number', ...ocr(big.replace('"datatype":"FP32"', '"datatype":"FP32","parameters":5')) },
    { name: 'a binary input beside a lifted one, no binary part', body: json({ inputs: [{ name: 'e', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }, { name: 'v', datatype: 'FP32', shape: [300], data: float32s(300, 15) }] }), signature: { name: 'm', inputs: [spec('e', 'FP32', [-1]), spec('v', 'FP32', [-1])], outputs: [] } },
    { name: 'an unknown input', ...ocr(big.replace('"name":"x"', '"name":"y"')) },
    { name: 'a duplicate input', body: json({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: ocrData }, { name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: ocrData }] }), signature: ocrSignature },
    { name: 'a missing input', body: json({ inputs: [x(float32s(400, 2))] }), signature: mixed },
    { name: 'an unsupported datatype', ...ocr(big.replace('"FP32"', '"FLOAT"')) },
    { name: 'a datatype mismatch', ...ocr(big.replace('"FP32"', '"FP64"')) },
    { name: 'a shape mismatch', ...ocr(big.replace('[1,3,48,192]', '[1,3,192,48]')) },
    { name: 'one element short', ...ocr(big.replace(/,[^,\]]+\]\}\]\}$/, ']}]}')) },
    { name: 'one element too many', ...ocr(big.replace(']}]}', ',1]}]}')) },
    { name: 'FP32 out of range: 1e39', body: withElement(12345, '1e39'), signature: ocrSignature },
    { name: 'FP32 out of range: 3.4028236e38', body: withElement(7, '3.4028236e38'), signature: ocrSignature },
    { name: 'FP32 out of range: the midpoint to 2^128 rounds up', body: withElement(8, '-3.4028235677973366e38'), signature: ocrSignature },
    { name: 'FP32: a number JSON reads as Infinity', body: withElement(27647, '1e400'), signature: ocrSignature },
    { name: 'FP32: null', body: withElement(3, 'null'), signature: ocrSignature },
    { name: 'FP32: a string', body: withElement(3, '"1.5"'), signature: ocrSignature },
    { name: 'FP32: true', body: withElement(0, 'true'), signature: ocrSignature },
    { name: 'FP64: 1e309', body: tokensBody('FP64', float32s(300, 14).map((v, i) => (i === 150 ? '1e309' : String(v)))), signature: oneInput('FP64') },
    { name: 'INT32: 1.5', body: Buffer.from(json({ inputs: [{ name: 'v', datatype: 'INT32', shape: [300], data: many(300, (i) => i) }] }).toString().replace(',299]', ',1.5]')), signature: oneInput('INT32') },
    { name: 'INT32: 2^31', body: json({ inputs: [{ name: 'v', datatype: 'INT32', shape: [300], data: many(300, (i) => (i === 200 ? 2 ** 31 : i)) }] }), signature: oneInput('INT32') },
    { name: 'UINT8: 256', body: json({ inputs: [{ name: 'v', datatype: 'UINT8', shape: [600], data: many(600, (i) => (i === 599 ? 256 : i % 256)) }] }), signature: oneInput('UINT8') },
    { name: 'UINT8: -1', body: json({ inputs: [{ name: 'v', datatype: 'UINT8', shape: [600], data: many(600, (i) => (i === 1 ? -1 : i % 256)) }] }), signature: oneInput('UINT8') },
    { name: 'UINT64: -1', body: json({ inputs: [{ name: 'v', datatype: 'UINT64', shape: [300], data: many(300, (i) => (i === 1 ? -1 : i)) }] }), signature: oneInput('UINT64') },
    { name: 'INT64: 2^53 + 2 as a number', body: json({ inputs: [{ name: 'v', datatype: 'INT64', shape: [300], data: many(300, (i) => (i === 9 ? 2 ** 53 + 2 : i)) }] }), signature: oneInput('INT64') },
    { name: 'INT64: 1e400', body: Buffer.from(json({ inputs: [{ name: 'v', datatype: 'INT64', shape: [300], data: many(300, (i) => i) }] }).toString().replace(',5,', ',1e400,')), signature: oneInput('INT64') },
    { name: 'FP16 out of range', body: json({ inputs: [{ name: 'v', datatype: 'FP16', shape: [300], data: many(300, (i) => (i === 100 ? 1e6 : i)) }] }), signature: oneInput('FP16') },
    { name: 'BOOL given numbers', body: json({ inputs: [{ name: 'v', datatype: 'BOOL', shape: [300], data: many(300, (i) => i % 2) }] }), signature: oneInput('BOOL') },
    { name: 'BYTES given numbers', body: json({ inputs: [{ name: 'v', datatype: 'BYTES', shape: [300], data: many(300, (i) => i) }] }), signature: oneInput('BYTES') },
    { name: 'nested data, one row short', ...ocr(JSON.stringify({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: [[nested[0]![0]!, nested[0]![1]!, nested[0]![2]!.slice(1)]] }] })) },
    { name: 'nested data, ragged', ...ocr(JSON.stringify({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: [[nested[0]![0]!, nested[0]![1]!, [...nested[0]![2]!.slice(1), nested[0]![2]![0]!.concat(1)]]] }] })) },
    { name: 'nested data in the wrong shape', ...ocr(JSON.stringify({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: nest(ocrData, [1, 3, 192, 48]) }] })) },
    { name: 'nested data deeper than the shape', ...ocr(JSON.stringify({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: [[[nested[0]![0]!], nested[0]![1]!, nested[0]![2]!]] }] })) },
    { name: 'nested and flat mixed', ...ocr(JSON.stringify({ inputs: [{ name: 'x', shape: OCR_SHAPE, datatype: 'FP32', data: [1, ...ocrData.slice(1, 27647), [2]] }] })) },
    { name: 'an unknown output', ...ocr(big.replace(']}]}', ']}],"outputs":[{"name":"nope"}]}')) },
    { name: 'deep nesting', ...ocr(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":${'['.repeat(5000)}1${']'.repeat(5000)}}]}`) },
    { name: 'binary part left over', body: json({ inputs: [x(float32s(400, 2)), ids([1])] }), binary: binaryX, signature: mixed },
    { name: 'binary_data_size beyond the binary part', body: json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 16 } }, ids([1])] }), binary: binaryX, signature: mixed },
    { name: 'binary_data_size without a binary part', body: json({ id: 'y'.repeat(2000), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }, ids(float32s(1, 1).map(() => 1))] }), signature: mixed },
  ];
}

/** JSON number texts that stress the conversion: rounding boundaries, ranges, exponents, long digit strings. */
export function numberTokens(count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const digits = (n: number, first = true) => Array.from({ length: n }, (_, i) => String(Math.floor(random() * (i === 0 && first ? 9 : 10)) + (i === 0 && first ? 1 : 0))).join('');
  const f32 = new Float32Array(2);
  const u32 = new Uint32Array(f32.buffer);
  const f64 = new Float64Array(1);
  const u64 = new BigUint64Array(f64.buffer);
  const nextDouble = (v: number, up: boolean) => { f64[0] = v; u64[0]! += up === v >= 0 ? 1n : -1n; return f64[0]!; };
  const specials = [
    '0', '-0', '0.0', '-0.0', '0e0', '-0E+5', '0.000e-999', '1e-7', '1E-7', '-1e-7', '1', '-1', '0.1', '0.3', '3.4028235e38', '-3.4028235e38',
    '3.4028234663852886e38', '3.4028235677973362e38', '1.1754943508222875e-38', '1.401298464324817e-45', '7.006492321624085e-46',
    '7.006492321624087e-46', '1e-46', '4.9e-324', '5e-324', '2.2250738585072014e-308', '2.2250738585072011e-308', '1.7976931348623157e308',
    '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '123456789012345678901234567890', '1e22', '1e23', '1e-22', '1e-23',
    '0.000000000000000000000000000001', '100000000000000000000000', '3.0000000000000000000001', '1.00000005960464477539062499', '1.000000059604644775390625',
    '1.00000005960464477539062501', '0.30000001192092896', '0.3000000119209289', '33554431', '33554433', '16777217', '16777216.5', '1e38', '1e-38', '1e-45',
  ];
  const out: string[] = [];
  while (out.length < count) {
    switch (Math.floor(random() * 8)) {
      case 0: out.push(pick(specials)); break;
      case 1: out.push(String(Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 20 - 10)))); break; // float32 widened
      case 2: out.push(String((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20))); break; // double
      case 3: { // a float32 rounding midpoint, written at various precisions, and its double neighbours
        f32[0] = (random() - 0.5) * 10 ** Math.floor(random() * 60 - 30);
        u32[1] = u32[0]! + 1;
        const mid = (f32[0]! + f32[1]!) / 2;
        out.push(pick([String(mid), String(nextDouble(mid, true)), String(nextDouble(mid, false)), mid.toPrecision(9), mid.toPrecision(17), mid.toPrecision(Math.floor(random() * 30) + 1), mid.toExponential(20)]));
        break;
      }
      case 4: { // random digits, any length, any exponent
        const sign = random() < 0.5 ? '-' : '';
        const int = random() < 0.3 ? '0' : digits(Math.floor(random() * 25) + 1);
        const frac = random() < 0.6 ? `.${digits(Math.floor(random() * 25) + 1, false)}` : '';
        const exp = random() < 0.6 ? `${pick(['e', 'E'])}${pick(['', '+', '-'])}${Math.floor(random() * 340)}` : '';
        out.push(`${sign}${int}${frac}${exp}`);
        break;
      }
      case 5: out.push(String(Math.floor((random() - 0.5) * 2 ** Math.floor(random() * 60)))); break; // integers, some beyond 2^53
      case 6: out.push(`${Math.floor(random() * 1000)}e${Math.floor(random() * 50) - 25}`); break;
      default: out.push(String(Math.fround(random()))); break;
    }
  }
  return out;
}

/** A JSON body around one input of number texts (written as given, not re-serialized). */
export function tokensBody(datatype: OipDatatype, tokens: string[], name = 'v'): Buffer {
  return Buffer.from(`{"inputs":[{"name":"${name}","datatype":"${datatype}","shape":[${tokens.length}],"data":[${tokens.join(',')}]}]}`);
}
