import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { addModel } from '../fixtures/onnxModels.js';
import { GENTOO_FEATURES, makeDataDir, startTestServer } from '../helpers/testServer.js';

const ONNX = { 'content-type': 'application/octet-stream' };
const inferBody = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

test('keys, models, active versions, load states and logs survive a restart', async () => {
  const dataDir = await makeDataDir();
  const first = await startTestServer({ dataDir });
  assert.ok(first.running.createdAdminKey, 'the first start creates the admin key');
  const adminKeyFile = await readFile(first.running.adminKeyPath, 'utf8');
  const { key } = (await (await first.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
  await first.request('POST', '/api/models/adder/versions', { body: addModel(), headers: ONNX });
  await first.request('POST', '/api/models/adder/versions', { body: addModel(), headers: ONNX });
  await first.request('POST', '/api/models/adder/versions/2/activate');
  await first.request('POST', '/api/models/adder/versions/1/unload');
  assert.equal((await first.request('POST', '/v2/models/mlp/infer', { key, json: inferBody })).status, 200);
  await first.request('PUT', '/api/settings', { json: { log_retention_days: 7 } });
  await first.stop();

  const second = await startTestServer({ dataDir });
  try {
    assert.equal(second.running.createdAdminKey, null, 'later starts never make or show a new admin key');
    assert.equal(await readFile(second.running.adminKeyPath, 'utf8'), adminKeyFile);
    assert.equal((await second.request('POST', '/v2/models/mlp/infer', { key, json: inferBody })).status, 200, 'the app key still works');
    const adder = (await (await second.request('GET', '/api/models/adder')).json()) as { active_version: string; versions: { version: string; state: string; desired_state: string }[] };
    assert.equal(adder.active_version, '2');
    assert.deepEqual(adder.versions.map((v) => [v.version, v.state, v.desired_state]), [['1', 'unloaded', 'unloaded'], ['2', 'ready', 'loaded']]);
    const logs = (await (await second.request('GET', '/api/logs?model=mlp')).json()) as { total: number };
    assert.ok(logs.total >= 1, 'request log rows written before the stop are kept');
    const settings = (await (await second.request('GET', '/api/settings')).json()) as { effective: { log_retention_days: number } };
    assert.equal(settings.effective.log_retention_days, 7);

    // The bundled model is installed once: deleted by the admin, it stays deleted.
    assert.equal((await second.request('DELETE', '/api/models/mlp/versions/1')).status, 200);
  } finally {
    await second.stop();
  }
  const third = await startTestServer({ dataDir });
  try {
    assert.equal((await third.request('GET', '/api/models/mlp')).status, 404);
  } finally {
    await third.cleanup();
  }
});
