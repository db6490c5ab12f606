import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutModelPaths } from '../../../server/common/withoutModelPaths.js';

const FILE = '/srv/inferbox data/models/mlp/3/model.onnx';

test("onnxruntime's messages lose the model folder's path: files keep their names, the folder is named as such", () => {
  assert.equal(withoutModelPaths(`Load model from ${FILE} failed:This is an invalid model.`, [FILE]), 'Load model from model.onnx failed:This is an invalid model.');
  assert.equal(
    withoutModelPaths('External data path does not exist: "/srv/inferbox data/models/mlp/3/weights.bin"', [FILE]),
    'External data path does not exist: "weights.bin"',
  );
  assert.equal(withoutModelPaths("ENOENT: no such file or directory, stat '/srv/inferbox data/models/mlp/3/model.int8.onnx'", [FILE, '/srv/inferbox data/models/mlp/3/model.int8.onnx']), "ENOENT: no such file or directory, stat 'model.int8.onnx'");
  assert.equal(withoutModelPaths('cannot open /srv/inferbox data/models/mlp/3', [FILE]), 'cannot open the model folder');
  assert.equal(withoutModelPaths(`twice: ${FILE} and ${FILE}`, [FILE]), 'twice: model.onnx and model.onnx');
});

test('other text, other folders and regex characters in the path are left alone', () => {
  assert.equal(withoutModelPaths('No Op registered for NoSuchOp', [FILE]), 'No Op registered for NoSuchOp');
  assert.equal(withoutModelPaths('see /srv/inferbox data/models/mlp/30/model.onnx', [FILE]), 'see /srv/inferbox data/models/mlp/30/model.onnx', 'version 30 is not version 3');
  assert.equal(withoutModelPaths('cannot open /srv/inferbox data/models/mlp/3.', [FILE]), 'cannot open the model folder.');
  const odd = '/tmp/a+b (1)/[x]/model.onnx';
  assert.equal(withoutModelPaths(`Load model from ${odd} failed`, [odd]), 'Load model from model.onnx failed');
  assert.equal(withoutModelPaths('at /model.onnx', ['/model.onnx']), 'at /model.onnx', 'a file at the root keeps its path (there is no folder to hide)');
});
