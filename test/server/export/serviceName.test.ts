import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertModelName } from '../../../server/common/names.js';
import { serviceName } from '../../../server/export/serviceName.js';

/** KServe's IsvcNameFmt (pkg/apis/serving/v1beta1/inference_service_validation.go): what its webhook accepts. */
const KSERVE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

// Valid model names here (the appliance's own rule), each of which KServe would refuse as `<model>-v<version>` or would merge with another.
const MODELS = ['3layer', 'my_model', 'my.model', 'my-model', 'my--model', 'model-', 'model_', '0', 'a', 'x'.repeat(128), `${'x'.repeat(127)}y`, '9'.repeat(128)].map(assertModelName);

test('every model name exports under a name KServe accepts, short enough for its predictor names (issue 19 item 10)', () => {
  for (const model of MODELS) {
    for (const version of ['1', '987654321']) {
      const name = serviceName(model, version);
      assert.match(name, KSERVE_NAME, `${model} v${version} → ${name}`);
      assert.ok(name.length <= 45, `${name} leaves room for '-predictor-default' in a 63-character label`);
      assert.ok(name.endsWith(`-v${version}`), 'the version stays readable');
    }
  }
});

test('distinct models keep distinct exported names, and a name KServe accepts is kept as it is', () => {
  const names = MODELS.map((model) => serviceName(model, '1'));
  assert.equal(new Set(names).size, MODELS.length, names.join(', '));
  assert.equal(serviceName('penguins', '1'), 'penguins-v1');
  assert.equal(serviceName('my-model', '2'), 'my-model-v2');
  assert.match(serviceName('3layer', '1'), /^m-3layer--[0-9a-f]{8}-v1$/);
  assert.match(serviceName('my_model', '1'), /^my-model--[0-9a-f]{8}-v1$/);
});
