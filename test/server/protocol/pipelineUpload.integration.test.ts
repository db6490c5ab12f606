import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { addModel } from '../../fixtures/onnxModels.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

const execFileAsync = promisify(execFile);
const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');

let server: TestServer;
let pipelineKey: string;
let mlpBytes: Buffer;

before(async () => {
  server = await startTestServer();
  mlpBytes = await readFile(MLP);
  const created = await server.request('POST', '/api/keys', { json: { name: 'training pipeline', scopes: ['models:write'] } });
  assert.equal(created.status, 201);
  pipelineKey = ((await created.json()) as { key: string }).key;
});
after(() => server.cleanup());

/** What `curl -F "metadata=<meta.json" -F model=@model.onnx` sends (metadata as a field); parts in the order given. */
function form(parts: { metadata?: unknown; model?: Uint8Array; modelFirst?: boolean }): FormData {
  const body = new FormData();
  const addMetadata = () => { if (parts.metadata !== undefined) body.append('metadata', typeof parts.metadata === 'string' ? parts.metadata : JSON.stringify(parts.metadata)); };
  const addModelPart = () => { if (parts.model) body.append('model', new Blob([parts.model]), 'model.onnx'); };
  if (parts.modelFirst) { addModelPart(); addMetadata(); } else { addMetadata(); addModelPart(); }
  return body;
}

const register = (model: string, body: FormData, options: { key?: string; query?: string } = {}) =>
  server.request('POST', `/api/models/${model}/versions${options.query ?? '?quantize=false'}`, { key: options.key ?? pipelineKey, body });

async function json<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as T;
}

async function incomingFiles(): Promise<string[]> {
  return readdir(join(server.dataDir, 'models', '.incoming')).catch(() => []);
}

test('a models:write key registers a new model with labels and training metrics; the API returns them', async () => {
  const metadata = { labels: { git_commit: '9f2c1ab', dataset: 'penguins-2026-11', 'team/owner': 'data-science', note: 'Pingüino ü' }, metrics: { accuracy: 0.957, loss: 0.121 } };
  const view = await json(await register('penguins', form({ metadata, model: mlpBytes })), 201);
  assert.equal(view.version, '1');
  assert.equal(view.active, true, 'the first version of a new model serves (nothing served before)');
  assert.deepEqual(view.labels, metadata.labels);
  assert.deepEqual(view.metrics, metadata.metrics);
  assert.equal(view.created_by, 'training pipeline');
  // The pipeline may read what it registered; the admin's model list shows it too.
  const read = await json<{ labels: unknown; metrics: unknown }>(await server.request('GET', '/api/models/penguins/versions/1', { key: pipelineKey }), 200);
  assert.deepEqual(read.labels, metadata.labels);
  const model = await json<{ versions: { metrics: unknown }[] }>(await server.request('GET', '/api/models/penguins', { key: pipelineKey }), 200);
  assert.deepEqual(model.versions[0]!.metrics, metadata.metrics);
  const audit = await json<{ entries: { actor_name: string; details: { labels: unknown } }[] }>(await server.request('GET', '/api/audit?action=model.upload'), 200);
  assert.ok(audit.entries.some((e) => e.actor_name === 'training pipeline' && JSON.stringify(e.details.labels) === JSON.stringify(metadata.labels)));
});

test('the parts may come in either order, and metadata is optional', async () => {
  const after = await json(await register('penguins', form({ metadata: { labels: { run: 'b' } }, model: mlpBytes, modelFirst: true })), 201);
  assert.deepEqual(after.labels, { run: 'b' });
  assert.deepEqual(after.metrics, {});
  assert.equal(after.active, false, 'a later version does not take over');
  const bare = await json(await register('penguins', form({ model: mlpBytes })), 201);
  assert.deepEqual(bare.labels, {});
});

test('what a models:write key may not do: activate, delete, unload, settings, keys, experiments, inference', async () => {
  const activate = await register('penguins', form({ model: mlpBytes }), { query: '?quantize=false&activate=true' });
  assert.match((await json<{ error: string }>(activate, 403)).error, /activating a version needs the 'admin' scope/);
  for (const [method, path] of [
    ['DELETE', '/api/models/penguins/versions/1'],
    ['POST', '/api/models/penguins/versions/1/unload'],
    ['POST', '/api/models/penguins/versions/2/activate'],
    ['PUT', '/api/models/penguins/settings'],
    ['GET', '/api/models'],
    ['GET', '/api/keys'],
    ['GET', '/api/experiments'],
    ['GET', '/api/models/penguins/versions/1/export?format=kserve'],
    ['POST', '/v2/models/penguins/infer'],
  ] as const) {
    const response = await server.request(method, path, { key: pipelineKey, ...(method === 'GET' ? {} : { json: {} }) });
    assert.equal(response.status, 403, `${method} ${path}`);
  }
  // An admin may activate on upload as before.
  const admin = await json(await register('penguins', form({ model: mlpBytes }), { key: server.adminKey, query: '?quantize=false&activate=true' }), 201);
  assert.equal(admin.active, true);
});

test('bad metadata is a 400 naming the field, and nothing is registered or left on disk', async () => {
  const before = await json<{ versions: unknown[] }>(await server.request('GET', '/api/models/penguins'), 200);
  const cases: [unknown, RegExp][] = [
    ['{not json', /metadata: syntax error/],
    [{ labels: { 'bad key!': 'x' } }, /labels\.bad key!: 'bad key!' is not a valid key/],
    [{ labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /labels: at most 32 labels/],
    [{ labels: { a: 'x'.repeat(257) } }, /labels\.a/],
    [{ metrics: { accuracy: '0.9' } }, /metrics\.accuracy/],
    [{ metrics: {}, extra: 1 }, /extra/],
    [{ experiment: { name: 'x', model: 'other' } }, /leave out 'model' and 'variants'/],
    [{ experiment: { name: 'x', weights: [0.5, 0.6] } }, /weights must sum to 1/],
  ];
  for (const [metadata, message] of cases) {
    for (const modelFirst of [false, true]) {
      const error = (await json<{ error: string }>(await register('penguins', form({ metadata, model: mlpBytes, modelFirst })), 400)).error;
      assert.match(error, message, `${JSON.stringify(metadata)} (model first: ${modelFirst})`);
    }
  }
  const missing = await json<{ error: string }>(await register('penguins', form({ metadata: { labels: {} } })), 400);
  assert.match(missing.error, /the 'model' part is missing/);
  const extraPart = new FormData();
  extraPart.append('model', new Blob([mlpBytes]), 'model.onnx');
  extraPart.append('readme', 'hello');
  assert.match((await json<{ error: string }>(await register('penguins', extraPart), 400)).error, /unexpected field 'readme'/);
  const afterwards = await json<{ versions: unknown[] }>(await server.request('GET', '/api/models/penguins'), 200);
  assert.equal(afterwards.versions.length, before.versions.length, 'no version was added');
  assert.deepEqual(await incomingFiles(), [], 'no temp file left');
});

test('register and start an experiment against the active version in one call; it runs and routes', async () => {
  const metadata = { labels: { git_commit: 'abc123' }, metrics: { accuracy: 0.96 }, experiment: { name: 'retrain abc123', weights: [0.9, 0.1], unit_id: { header: 'x-customer' } } };
  const view = await json<{ version: string; active: boolean; experiment: { id: string; status: string; variants: { name: string; version: string; weight: number }[] } }>(await register('penguins', form({ metadata, model: mlpBytes })), 201);
  assert.equal(view.active, false);
  const active = (await json<{ active_version: string }>(await server.request('GET', '/api/models/penguins'), 200)).active_version;
  assert.equal(view.experiment.status, 'running');
  assert.deepEqual(view.experiment.variants, [{ name: 'control', version: active, weight: 0.9 }, { name: 'candidate', version: view.version, weight: 0.1 }]);
  const stored = await json<{ status: string }>(await server.request('GET', `/api/experiments/${view.experiment.id}`), 200);
  assert.equal(stored.status, 'running');
  // The pipeline cannot stop or promote it: that stays an admin's decision.
  assert.equal((await server.request('POST', `/api/experiments/${view.experiment.id}/promote`, { key: pipelineKey, json: { variant: 'candidate' } })).status, 403);

  // One experiment per model: a second upload with an experiment is refused whole, nothing kept.
  const versions = (await json<{ versions: unknown[] }>(await server.request('GET', '/api/models/penguins'), 200)).versions.length;
  const second = await json<{ error: string }>(await register('penguins', form({ metadata: { experiment: { name: 'again', weights: [0.9, 0.1] } }, model: mlpBytes })), 409);
  assert.match(second.error, /already running/);
  assert.equal((await json<{ versions: unknown[] }>(await server.request('GET', '/api/models/penguins'), 200)).versions.length, versions, 'the version was removed again');
  assert.equal((await server.request('POST', `/api/experiments/${view.experiment.id}/stop`)).status, 200);
});

test('an experiment needs an active version to compare with: refused for a new model, nothing kept', async () => {
  const refused = await json<{ error: string }>(await register('brand-new', form({ metadata: { experiment: { name: 'x' } }, model: addModel() })), 409);
  assert.match(refused.error, /no active version/);
  assert.equal((await server.request('GET', '/api/models/brand-new')).status, 404);
  assert.deepEqual(await incomingFiles(), []);
});

test('the plain ONNX body still works for admins (the console), and other content types are refused', async () => {
  const plain = await server.request('POST', '/api/models/adder/versions?quantize=false', { body: addModel(), headers: { 'content-type': 'application/octet-stream' } });
  assert.deepEqual((await json<{ labels: unknown }>(plain, 201)).labels, {});
  const text = await server.request('POST', '/api/models/adder/versions', { key: pipelineKey, body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.match((await json<{ error: string }>(text, 415)).error, /multipart\/form-data/);
});

/** The README's sh block that registers a version from a pipeline, run as written (curl and all). */
async function readmeUploadCommand(): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '../../../README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((text) => text.includes('-F metadata=@meta.json'));
  assert.ok(block, "the README's pipeline upload example");
  return block;
}

test("the README's curl command registers a version: metadata sent as a file part (-F metadata=@meta.json)", async () => {
  const command = await readmeUploadCommand();
  assert.match(command, /https:\/\/inferbox:8000\/api\/models\/mlp\/versions/);
  const dir = await mkdtemp(join(tmpdir(), 'inferbox-readme-'));
  try {
    await copyFile(MLP, join(dir, 'model.onnx'));
    // Only the address differs: the test server is plain HTTP on an ephemeral port.
    const script = command.replaceAll('https://inferbox:8000', server.baseUrl);
    const { stdout } = await execFileAsync('sh', ['-e', '-c', script], { cwd: dir, env: { ...process.env, PIPELINE_KEY: pipelineKey } });
    const view = JSON.parse(stdout) as { version: string; labels: unknown; metrics: unknown; experiment: { id: string; status: string; name: string } };
    assert.deepEqual(view.labels, { git_commit: '9f2c1ab', dataset: 'penguins-2026-11' }, stdout);
    assert.deepEqual(view.metrics, { accuracy: 0.957, loss: 0.12 });
    assert.equal(view.experiment.status, 'running');
    assert.equal(view.experiment.name, 'retrain 9f2c1ab');
    assert.equal((await server.request('POST', `/api/experiments/${view.experiment.id}/stop`)).status, 200);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a metadata file part is validated and limited like the field', async () => {
  const withFile = (metadata: string, modelFirst = false) => {
    const body = new FormData();
    const addMetadata = () => body.append('metadata', new Blob([metadata], { type: 'application/json' }), 'meta.json');
    const addModelPart = () => body.append('model', new Blob([mlpBytes]), 'model.onnx');
    if (modelFirst) { addModelPart(); addMetadata(); } else { addMetadata(); addModelPart(); }
    return body;
  };
  for (const modelFirst of [false, true]) {
    const ok = await json(await register('penguins', withFile(JSON.stringify({ labels: { sent: 'as a file' } }), modelFirst)), 201);
    assert.deepEqual(ok.labels, { sent: 'as a file' });
    assert.match((await json<{ error: string }>(await register('penguins', withFile('{not json', modelFirst)), 400)).error, /metadata: syntax error/);
    assert.match((await json<{ error: string }>(await register('penguins', withFile(JSON.stringify({ labels: { 'bad key!': 'x' } }), modelFirst)), 400)).error, /'bad key!' is not a valid key/);
    const big = JSON.stringify({ labels: { a: 'x' }, pad: 'y'.repeat(70 * 1024) });
    assert.match((await json<{ error: string }>(await register('penguins', withFile(big, modelFirst)), 400)).error, /the metadata part is larger than 65536 bytes/);
  }
  // Given twice (a field and a file) is refused like two fields.
  const twice = new FormData();
  twice.append('metadata', '{}');
  twice.append('metadata', new Blob(['{}']), 'meta.json');
  twice.append('model', new Blob([mlpBytes]), 'model.onnx');
  assert.equal((await register('penguins', twice)).status, 400);
  assert.deepEqual(await incomingFiles(), [], 'no temp file left');
});
