import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InferboxError, type ErrorCode } from '../../../server/common/errors.js';
import { decodeInferRequest, type ModelSignature } from '../../../server/serving/decodeInferRequest.js';

const model: ModelSignature = {
  name: 'm',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 'ids', datatype: 'INT64', shape: [-1] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }, { name: 'z', datatype: 'INT64', shape: [-1] }],
};

const x = (overrides: Record<string, unknown> = {}) => ({ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2], ...overrides });
const ids = (overrides: Record<string, unknown> = {}) => ({ name: 'ids', datatype: 'INT64', shape: [1], data: [7], ...overrides });

function rejects(body: unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(() => decodeInferRequest(body, model), (error: unknown) => {
    assert.ok(error instanceof InferboxError, `expected an InferboxError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('decodeInferRequest', () => {
  test('decodes flat and nested data into typed tensors, all outputs by default', () => {
    const decoded = decodeInferRequest({ id: 'r1', inputs: [x({ shape: [2, 2], data: [[1, 2], [3, 4]] }), ids({ shape: [2], data: [1, '9007199254740993'] })] }, model);
    assert.equal(decoded.id, 'r1');
    assert.deepEqual(Array.from(decoded.feeds.x!.data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(decoded.feeds.x!.dims, [2, 2]);
    assert.deepEqual(Array.from(decoded.feeds.ids!.data as BigInt64Array), [1n, 9007199254740993n]);
    assert.deepEqual(decoded.outputNames, ['y', 'z']);
  });

  test('honours an outputs subset', () => {
    const decoded = decodeInferRequest({ inputs: [x(), ids()], outputs: [{ name: 'z' }] }, model);
    assert.deepEqual(decoded.outputNames, ['z']);
  });

  test('each bad request names what is wrong', () => {
    rejects({ inputs: 'nope' }, 'IBX_ERR_INVALID_REQUEST', /inputs/);
    rejects({ inputs: [x({ shape: [1, -2] })] }, 'IBX_ERR_INVALID_REQUEST', /inputs\.0\.shape/);
    rejects({ inputs: [x(), ids(), { name: 'extra', datatype: 'FP32', shape: [1], data: [1] }] }, 'IBX_ERR_UNKNOWN_INPUT', /'extra'/);
    rejects({ inputs: [x()] }, 'IBX_ERR_MISSING_INPUT', /'ids'/);
    rejects({ inputs: [x(), x(), ids()] }, 'IBX_ERR_DUPLICATE_INPUT', /'x'/);
    rejects({ inputs: [x({ datatype: 'FLOAT' }), ids()] }, 'IBX_ERR_UNSUPPORTED_DATATYPE', /input 'x'.*FLOAT/);
    rejects({ inputs: [x({ datatype: 'FP64' }), ids()] }, 'IBX_ERR_DATATYPE_MISMATCH', /input 'x': datatype FP64 .* FP32/);
    rejects({ inputs: [x({ shape: [1, 3], data: [1, 2, 3] }), ids()] }, 'IBX_ERR_SHAPE_MISMATCH', /input 'x': shape \[1,3\]/);
    rejects({ inputs: [x({ shape: [2] }), ids()] }, 'IBX_ERR_SHAPE_MISMATCH', /input 'x'/);
    rejects({ inputs: [x({ data: [1, 2, 3] }), ids()] }, 'IBX_ERR_DATA_LENGTH', /input 'x': shape \[1,2\] needs 2 elements but data has 3/);
    rejects({ inputs: [x({ data: [1, 'NaN'] }), ids()] }, 'IBX_ERR_INVALID_ELEMENT', /input 'x': element 1 .*NaN/);
    rejects({ inputs: [x({ data: [1, null] }), ids()] }, 'IBX_ERR_INVALID_ELEMENT', /input 'x': element 1/);
    rejects({ inputs: [x(), ids({ data: [1.5] })] }, 'IBX_ERR_INVALID_ELEMENT', /input 'ids': element 0 is not a valid INT64/);
    rejects({ inputs: [x(), ids({ data: ['99999999999999999999'] })] }, 'IBX_ERR_INVALID_ELEMENT', /out of range/);
    rejects({ inputs: [x(), ids()], outputs: [{ name: 'nope' }] }, 'IBX_ERR_UNKNOWN_OUTPUT', /'nope'/);
    rejects({ inputs: [x({ shape: [2, 2], data: [[1, 2, 3], [4]] }), ids()] }, 'IBX_ERR_DATA_NESTING', /data\[0\] has 3 elements where the shape needs 2/);
    rejects({ inputs: [x({ shape: [1, 2], data: [[[1], [2]]] }), ids()] }, 'IBX_ERR_DATA_NESTING', /data\[0\]\[0\] nests deeper/);
    rejects({ inputs: [x({ data: [1e300, 1] }), ids()] }, 'IBX_ERR_INVALID_ELEMENT', /element 0 .*out of the FP32 range/);
  });
});

test('inputs named like Object properties are ordinary names', () => {
  const odd: ModelSignature = { name: 'm', inputs: [{ name: 'constructor', datatype: 'FP32', shape: [1] }], outputs: [] };
  const decoded = decodeInferRequest({ inputs: [{ name: 'constructor', datatype: 'FP32', shape: [1], data: [1] }] }, odd);
  assert.deepEqual(Array.from(decoded.feeds['constructor' as string]!.data as Float32Array), [1]);
  assert.throws(() => decodeInferRequest({ inputs: [] }, odd), /inputs/);
  const proto: ModelSignature = { name: 'm', inputs: [{ name: 'toString', datatype: 'FP32', shape: [1] }], outputs: [] };
  assert.throws(() => decodeInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }, { ...proto, inputs: [...proto.inputs, { name: 'x', datatype: 'FP32', shape: [1] }] }), /missing input 'toString'/);
});

describe('element decoding per datatype', () => {
  const one = (datatype: string, data: unknown[]) => decodeInferRequest(
    { inputs: [{ name: 'v', datatype, shape: [data.length], data }] },
    { name: 'm', inputs: [{ name: 'v', datatype: datatype as never, shape: [-1] }], outputs: [] },
  ).feeds.v!;

  test('integers are range-checked per type', () => {
    assert.deepEqual(Array.from(one('UINT8', [0, 255]).data as Uint8Array), [0, 255]);
    assert.throws(() => one('UINT8', [256]), /out of range 0\.\.255/);
    assert.throws(() => one('INT8', [-129]), /out of range/);
    assert.throws(() => one('UINT64', [-1]), /out of range/);
  });

  test('BOOL takes true/false only; BYTES takes strings only', () => {
    assert.deepEqual(Array.from(one('BOOL', [true, false]).data as Uint8Array), [1, 0]);
    assert.throws(() => one('BOOL', [1]), /expected true or false/);
    assert.deepEqual(one('BYTES', ['a', 'b']).data, ['a', 'b']);
    assert.throws(() => one('BYTES', [1]), /expected a string/);
  });

  test('FP16 is encoded as half-precision bits and refuses values beyond its range', () => {
    assert.deepEqual(Array.from(one('FP16', [1, -2]).data as Uint16Array), [0x3c00, 0xc000]);
    assert.throws(() => one('FP16', [1e6]), /FP16 range/);
  });
});
