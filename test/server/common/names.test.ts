import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertModelName, assertVersion } from '../../../server/common/names.js';

test('model names: safe folder and URL segment names only', () => {
  for (const ok of ['mlp', 'ocr-cls', 'fraud_v2', 'a.b', 'a1', 'console', 'com10']) assert.equal(assertModelName(ok), ok);
  for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', 'a..b', '-x', 'sp ace', 'x'.repeat(129), 'é', 'Mlp', 'a.', 'con', 'nul.onnx', 'com1', 'lpt9']) {
    assert.throws(() => assertModelName(bad), /invalid model name/, bad);
  }
});

test('versions: positive integers without leading zeros', () => {
  for (const ok of ['1', '2', '10', '999999999']) assert.equal(assertVersion(ok), ok);
  for (const bad of ['0', '01', '-1', '1.0', 'v1', '', '..', '1e3']) assert.throws(() => assertVersion(bad), /invalid version/, bad);
});
