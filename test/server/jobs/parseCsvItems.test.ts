import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsvItems } from '../../../server/jobs/parseCsvItems.js';
import type { TensorSpec } from '../../../server/common/datatypes.js';

const model = (inputs: TensorSpec[]) => ({ name: 'm', inputs });

test('rows become [1, F] items of the model input; a quoted header and a BOM are skipped', () => {
  const items = parseCsvItems('\uFEFF"a","b"\n1,2.5\n\n-3,4e2\n', model([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]));
  assert.deepEqual(items, [
    { label: 'line 2', request: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2.5] }] } },
    { label: 'line 4', request: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [-3, 400] }] } },
  ]);
});

test('64-bit integers stay decimal strings (exact beyond 2^53)', () => {
  const [item] = parseCsvItems('9007199254740993\n', model([{ name: 'x', datatype: 'INT64', shape: [1, 1] }]));
  assert.deepEqual((item!.request as { inputs: { data: unknown[] }[] }).inputs[0]!.data, ['9007199254740993']);
});

test('a model that is not tabular is refused', () => {
  assert.throws(() => parseCsvItems('1\n', model([{ name: 'img', datatype: 'FP32', shape: [1, 3, 8, 8] }])), /CSV needs a tabular model/);
  assert.throws(() => parseCsvItems('1\n', model([{ name: 'a', datatype: 'FP32', shape: [-1, 1] }, { name: 'b', datatype: 'FP32', shape: [-1, 1] }])), /CSV needs a tabular model/);
  assert.throws(() => parseCsvItems('1\n', model([{ name: 's', datatype: 'BYTES', shape: [-1, 1] }])), /CSV needs a tabular model/);
});
