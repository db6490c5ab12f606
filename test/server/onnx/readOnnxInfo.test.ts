import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { isInsideModelFolder, readOnnxInfo } from '../../../server/onnx/readOnnxInfo.js';
import { DataType, decodeModel, encodeModel, onnx } from '../../../server/onnx/onnxModel.js';
import { addModel, externalDataModel } from '../../fixtures/onnxModels.js';

test('reads opset, IR version and producer of the bundled model', async () => {
  const info = readOnnxInfo(await readFile(new URL('../../../models/mlp/model.onnx', import.meta.url)));
  assert.equal(info.opset, 17);
  assert.equal(info.irVersion, 8);
  assert.match(info.producer ?? '', /^inferbox-models/);
  assert.deepEqual(info.externalDataLocations, []);
});

test('finds external data locations', () => {
  assert.deepEqual(readOnnxInfo(externalDataModel('../../etc/passwd')).externalDataLocations, ['../../etc/passwd']);
});

test('garbage is a malformed-ONNX error, not a crash', () => {
  assert.throws(() => readOnnxInfo(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02])), /not a valid ONNX model/);
  assert.throws(() => readOnnxInfo(new Uint8Array()), /not a valid ONNX model|no graph/);
});

test('only relative locations that stay in the folder are inside', () => {
  for (const inside of ['weights.bin', 'data/w.bin', './w.bin', 'a/../w.bin']) assert.ok(isInsideModelFolder(inside), inside);
  for (const outside of ['', '../w.bin', '/etc/passwd', 'C:\\x\\w.bin', 'a/../../w.bin', '..\\w.bin', '\\\\server\\share\\w']) {
    assert.ok(!isInsideModelFolder(outside), outside);
  }
});

test('external data is found in sparse initializers and in model-local functions too', () => {
  const external = (location: string) => ({ dataType: DataType.FLOAT, dims: [1], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: location }] });
  const model = decodeModel(addModel());
  model.graph!.sparseInitializer = [{ values: { ...external('/etc/sparse'), name: 's' }, indices: { dataType: DataType.INT64, dims: [1], int64Data: [0] }, dims: [4] }];
  model.functions = [{ name: 'f', domain: 'local', node: [{ opType: 'Constant', output: ['c'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: external('../function') }] }] }];
  assert.deepEqual(readOnnxInfo(encodeModel(model)).externalDataLocations.sort(), ['../function', '/etc/sparse']);
});
