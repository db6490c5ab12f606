import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildModel } from '../../../models/lib/onnxGraph.js';
import { addModel, externalDataModel } from '../../fixtures/onnxModels.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

const ONNX = { 'content-type': 'application/octet-stream' };
const upload = (name: string, body: Uint8Array, query = '') => server.request('POST', `/api/models/${name}/versions${query}`, { body, headers: ONNX });
const addInputs = { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [10, 20, 30] }] };
const exists = (path: string) => stat(path).then(() => true, () => false);

async function errorOf(response: Response, status: number): Promise<string> {
  const body = (await response.json()) as { error: string };
  assert.equal(response.status, status, JSON.stringify(body));
  return body.error;
}

/** Nothing of a refused upload may stay: no model folder, no temp file, no row. */
async function assertNothingLeft(name: string): Promise<void> {
  assert.equal(await exists(join(server.dataDir, 'models', name)), false, 'no model folder');
  const incoming = await readdir(join(server.dataDir, 'models', '.incoming')).catch(() => []);
  assert.deepEqual(incoming, [], 'no temp files');
  assert.equal((await server.request('GET', `/api/models/${name}`)).status, 404, 'no database row');
}

test('versions: first is active and ready at once, later ones only on request', async () => {
  const first = await upload('adder', addModel());
  assert.equal(first.status, 201);
  const v1 = (await first.json()) as Record<string, unknown>;
  assert.equal(v1.name, 'adder');
  assert.equal(v1.version, '1');
  assert.equal(v1.active, true);
  assert.equal(v1.state, 'ready');
  assert.match(String(v1.sha256), /^[0-9a-f]{64}$/);
  assert.equal(v1.size_bytes, addModel().length);
  assert.equal(v1.opset, 17);
  assert.match(String(v1.producer), /inferbox-test-fixtures/);
  assert.equal(await exists(join(server.dataDir, 'models', 'adder', '1', 'model.onnx')), true);

  const inference = await server.request('POST', '/v2/models/adder/infer', { json: addInputs });
  assert.equal(inference.status, 200, 'the first version serves as soon as the 201 is sent');
  assert.deepEqual(((await inference.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data, [11, 22, 33]);

  const v2 = (await (await upload('adder', addModel())).json()) as { version: string; active: boolean; state: string };
  assert.deepEqual([v2.version, v2.active, v2.state], ['2', false, 'ready']);
  const v3 = (await (await upload('adder', addModel(), '?activate=true')).json()) as { version: string; active: boolean };
  assert.deepEqual([v3.version, v3.active], ['3', true]);
  const unversioned = (await (await server.request('POST', '/v2/models/adder/infer', { json: addInputs })).json()) as { model_version: string };
  assert.equal(unversioned.model_version, '3');

  const activated = (await (await server.request('POST', '/api/models/adder/versions/2/activate')).json()) as { active: boolean };
  assert.equal(activated.active, true);
  const model = (await (await server.request('GET', '/api/models/adder')).json()) as { active_version: string; versions: { version: string }[] };
  assert.equal(model.active_version, '2');
  assert.deepEqual(model.versions.map((v) => v.version), ['1', '2', '3']);
});

test('delete: the active version is protected, others go with their files; the last takes the model', async () => {
  assert.match(await errorOf(await server.request('DELETE', '/api/models/adder/versions/2'), 409), /active version/);
  assert.equal((await server.request('DELETE', '/api/models/adder/versions/3')).status, 200);
  assert.equal(await exists(join(server.dataDir, 'models', 'adder', '3')), false);
  assert.equal((await server.request('POST', '/v2/models/adder/versions/3/infer', { json: addInputs })).status, 404);
  assert.equal((await server.request('DELETE', '/api/models/adder/versions/1')).status, 200);
  const last = await server.request('DELETE', '/api/models/adder/versions/2');
  assert.deepEqual(await last.json(), { deleted: true, model_deleted: true });
  await assertNothingLeft('adder');
});

test('version numbers keep increasing after a delete', async () => {
  await upload('counter', addModel());
  await upload('counter', addModel());
  await server.request('DELETE', '/api/models/counter/versions/2');
  const next = (await (await upload('counter', addModel())).json()) as { version: string };
  assert.equal(next.version, '3', 'a deleted version number is never given again');
});

test('refused uploads leave nothing behind', async () => {
  assert.match(await errorOf(await upload('junk', new TextEncoder().encode('this is not onnx at all')), 400), /not a valid ONNX model/);
  await assertNothingLeft('junk');

  const unknownOp = buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: [1] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    nodes: [{ op: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
  });
  assert.match(await errorOf(await upload('badop', unknownOp), 422), /onnxruntime could not load the model: .*NoSuchOperator/);
  await assertNothingLeft('badop');

  for (const location of ['../../../etc/passwd', '/etc/passwd']) {
    assert.match(await errorOf(await upload('sneaky', externalDataModel(location)), 400), /external data .* outside its own folder/);
  }
  await assertNothingLeft('sneaky');

  assert.match(await errorOf(await server.request('POST', '/api/models/typed/versions', { body: addModel(), headers: { 'content-type': 'application/json' } }), 415), /application\/octet-stream/);
  await assertNothingLeft('typed');
});

test('names and versions are validated', async () => {
  // ('..' itself never reaches the server: URL parsers resolve it; names.test.ts covers it.)
  for (const name of ['.hidden', 'a%2Fb', 'a%5Cb', 'sp%20ace', 'x'.repeat(129)]) {
    assert.match(await errorOf(await upload(name, addModel()), 400), /invalid model name/, name);
  }
  assert.match(await errorOf(await server.request('GET', '/api/models/mlp/versions/01'), 400), /invalid version/);
  assert.match(await errorOf(await server.request('GET', '/api/models/mlp/versions/1.0'), 400), /invalid version/);
});

test('an upload over max_model_bytes is refused with 413 and nothing kept', async () => {
  assert.equal((await server.request('PUT', '/api/settings', { json: { max_model_bytes: 1024 } })).status, 200);
  try {
    const big = new Uint8Array(64 * 1024);
    assert.match(await errorOf(await upload('huge', big), 413), /larger than the limit of 1024 bytes/);
    await assertNothingLeft('huge');
  } finally {
    await server.request('PUT', '/api/settings', { json: { max_model_bytes: null } });
  }
});

test('admin actions are in the audit trail with who did them', async () => {
  const body = (await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: { action: string; target: string; actor_name: string }[] };
  const actions = body.entries.map((e) => `${e.action} ${e.target ?? ''}`.trim());
  for (const expected of ['model.upload adder/1', 'model.activate adder/2', 'model.delete_version adder/3', 'settings.update']) {
    assert.ok(actions.includes(expected), `audit has ${expected}`);
  }
  assert.ok(body.entries.every((e) => e.actor_name === 'admin' || e.actor_name === 'system'));
  const firstStart = body.entries.filter((e) => e.actor_name === 'system').map((e) => `${e.action} ${e.target}`);
  assert.ok(firstStart.includes('model.upload mlp/1') && firstStart.some((a) => a.startsWith('key.create ')), `first start is audited: ${firstStart.join(', ')}`);
  const filtered = (await (await server.request('GET', '/api/audit?action=model.activate')).json()) as { entries: unknown[]; total: number };
  assert.equal(filtered.total, 1);
});
