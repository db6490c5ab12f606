import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { buildModel } from '../../models/lib/onnxGraph.js';
import { spawnServe, waitForServeBanner } from '../helpers/serveProcess.js';
import { makeDataDir } from '../helpers/testServer.js';

/**
 * "Logs never hold keys or payloads": the real CLI at its most verbose log level with payload
 * logging off (the default). Keys are created through the API and used, wrong and revoked keys
 * are refused, inputs carry marker values (a float and a BYTES string, as JSON and as binary,
 * valid and refused), a model is uploaded and a job runs. Then every file in the data dir (the
 * SQLite database with its -wal and -shm, while running and after the stop) and the server's
 * stdout and stderr are searched for every raw key, every key's secret part alone, and the markers
 * in each encoding they could be stored in.
 *
 * What is legitimately stored, and how the test treats it:
 * - `admin.key` holds the admin key (the one file allowed to hold a raw key); nothing else may
 *   hold any raw key or secret part (only the key ids, which are public, and SHA-256 hashes);
 * - a job's inputs are its data while it runs (`job_inputs`); they are deleted when it ends, so
 *   after the job finished no byte of them may remain (the database zeroes deleted content:
 *   `secure_delete`, see server/store/openDatabase.ts). Its results (here class probabilities,
 *   not the inputs) stay until the job is deleted or purged;
 * - validation samples are recorded from live requests only after the admin opts in per model
 *   (LiveSampleRecorder; off by default, as payload logging is): the test checks both are off.
 */

/** Marker values no model, file or id would hold by chance. */
const FLOAT_MARKER = 12345.678;
const TEXT_MARKER = 'payload-marker-8c1f2e9a';

/** Every form a marker could take on disk or in a log line. */
function markerForms(): { name: string; bytes: Buffer }[] {
  const f32 = Buffer.alloc(4);
  f32.writeFloatLE(FLOAT_MARKER);
  const f64 = Buffer.alloc(8);
  f64.writeDoubleLE(FLOAT_MARKER);
  return [
    { name: 'the float marker as text', bytes: Buffer.from(String(FLOAT_MARKER)) },
    { name: 'the float marker as float32', bytes: f32 },
    { name: 'the float marker as float64', bytes: f64 },
    { name: 'the text marker', bytes: Buffer.from(TEXT_MARKER) },
  ];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** "<what> in <where>" for every needle found in every haystack. */
function findings(haystacks: { where: string; bytes: Buffer }[], needles: { name: string; bytes: Buffer; allowedIn?: string }[]): string[] {
  return haystacks.flatMap(({ where, bytes }) => needles.filter((n) => n.allowedIn !== where && bytes.includes(n.bytes)).map((n) => `${n.name} in ${where}`));
}

/** A model with one BYTES input copied to its output: the text marker travels as a string tensor. */
const textModel = () =>
  buildModel({
    graphName: 'echo',
    inputs: [{ name: 'text', type: 'string', shape: ['n'] }],
    outputs: [{ name: 'same', type: 'string', shape: ['n'] }],
    nodes: [{ op: 'Identity', inputs: ['text'], outputs: ['same'] }],
  });

/** BYTES binary encoding (OIP binary extension): each element as a 4-byte little-endian length and its bytes. */
function bytesElement(text: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(Buffer.byteLength(text));
  return Buffer.concat([length, Buffer.from(text)]);
}

test('no file in the data dir and no line the server prints holds a raw key, a secret or a payload', async () => {
  const dataDir = await makeDataDir();
  const server = spawnServe(dataDir, { logLevel: 'trace' }) // the most verbose level: a leak in a debug line is a leak too;
  let printed = '';
  try {
    const banner = await waitForServeBanner(server);
    printed = banner.output;
    server.stdout!.on('data', (chunk: string) => (printed += chunk));
    server.stderr!.on('data', (chunk: string) => (printed += chunk));
    const url = banner.url!;
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const call = (method: string, path: string, key: string | null, body?: RequestInit['body'], headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, body: body ?? null });
    const json = { 'content-type': 'application/json' };

    const settings = (await (await call('GET', '/api/models/mlp/settings', adminKey)).json()) as { effective: { log_payloads: boolean } };
    assert.equal(settings.effective.log_payloads, false, 'payload logging is off (the default, per model)');

    const created: string[] = [];
    const createKey = async (name: string, scopes: string[]) => {
      const response = await call('POST', '/api/keys', adminKey, JSON.stringify({ name, scopes }), json);
      assert.equal(response.status, 201);
      const body = (await response.json()) as { id: string; key: string };
      created.push(body.key);
      return body;
    };
    const app = await createKey('shop app', ['infer']);
    const scoped = await createKey('mlp only', ['infer:mlp']);
    const secondAdmin = await createKey('second admin', ['admin']);
    const revoked = await createKey('to revoke', ['infer']);

    const upload = await call('POST', '/api/models/echo/versions', secondAdmin.key, textModel(), { 'content-type': 'application/octet-stream' });
    assert.equal(upload.status, 201, await upload.clone().text());

    const features = (first: number) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [first, 15, 217, 5076] }] });
    assert.equal((await call('POST', '/v2/models/mlp/infer', app.key, JSON.stringify(features(FLOAT_MARKER)), json)).status, 200);
    assert.equal((await call('POST', '/v2/models/mlp/infer', scoped.key, JSON.stringify(features(FLOAT_MARKER)), json)).status, 200);
    const binaryHeader = (name: string, datatype: string, shape: number[], size: number) => Buffer.from(JSON.stringify({ inputs: [{ name, datatype, shape, parameters: { binary_data_size: size } }] }));
    const binaryInfer = (path: string, key: string, header: Buffer, data: Buffer) =>
      call('POST', path, key, Buffer.concat([header, data]), { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' });
    const floats = Buffer.from(new Float32Array([FLOAT_MARKER, 15, 217, 5076]).buffer);
    assert.equal((await binaryInfer('/v2/models/mlp/infer', app.key, binaryHeader('features', 'FP32', [1, 4], 16), floats)).status, 200);
    const text = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [TEXT_MARKER] }] };
    const echoed = await call('POST', '/v2/models/echo/infer', app.key, JSON.stringify(text), json);
    assert.equal(echoed.status, 200, await echoed.clone().text());
    const element = bytesElement(TEXT_MARKER);
    assert.equal((await binaryInfer('/v2/models/echo/infer', app.key, binaryHeader('text', 'BYTES', [1], element.length), element)).status, 200);
    // Refused inputs carry the markers too: an error message that quoted them would be logged.
    const refused = [
      await call('POST', '/v2/models/mlp/infer', app.key, JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [TEXT_MARKER, 1, 2, 3] }] }), json),
      await call('POST', '/v2/models/mlp/infer', app.key, JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [FLOAT_MARKER, 1, 2] }] }), json),
      await call('POST', '/v2/models/echo/infer', app.key, JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: [TEXT_MARKER] }] }), json),
      await call('POST', '/v2/models/echo/infer', app.key, JSON.stringify({ inputs: [{ name: 'text', datatype: 'FP32', shape: [1], data: [TEXT_MARKER] }] }), json),
      await call('POST', '/v2/models/mlp/infer', app.key, `{"inputs": [{"name": "features", "data": [${FLOAT_MARKER}, "${TEXT_MARKER}`, json),
    ];
    assert.deepEqual(refused.map((r) => r.status), [400, 400, 400, 400, 400]);

    // Well-formed but wrong keys: a real key's id with another secret, an unknown id, and a revoked key.
    const [, appId, appSecret] = /^ibx_([^_]{12})_(.{43})$/.exec(app.key)!;
    const wrongSecret = `ibx_${appId}_${'x'.repeat(appSecret!.length)}`;
    const unknownId = `ibx_zzzzzzzzzzzz_${appSecret!.split('').reverse().join('')}`;
    assert.equal((await call('DELETE', `/api/keys/${revoked.id}`, adminKey)).status, 200);
    for (const key of [wrongSecret, unknownId, revoked.key]) {
      for (const [method, path] of [['POST', '/v2/models/mlp/infer'], ['GET', '/api/models'], ['POST', '/api/feedback']]) {
        assert.equal((await call(method!, path!, key, method === 'GET' ? undefined : JSON.stringify(features(FLOAT_MARKER)), json)).status, 401, `${method} ${path} with ${key}`);
      }
    }

    const submitted = await call('POST', '/api/jobs', app.key, JSON.stringify({ model: 'mlp', items: [features(FLOAT_MARKER), features(FLOAT_MARKER + 1)] }), json);
    assert.equal(submitted.status, 202, await submitted.clone().text());
    const { id: jobId } = (await submitted.json()) as { id: string };
    let job: { state: string; results?: unknown } = { state: 'queued' };
    while (!['succeeded', 'failed', 'cancelled'].includes(job.state)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = (await (await call('GET', `/api/jobs/${jobId}`, app.key)).json()) as typeof job;
    }
    assert.equal(job.state, 'succeeded');

    const samples = (await (await call('GET', '/api/models/mlp/samples', adminKey)).json()) as { samples: { source: string }[] };
    assert.ok(samples.samples.every((s) => s.source !== 'live'), 'no live samples were recorded (recording is opt-in)');

    const keyNeedles = [adminKey, ...created].flatMap((key) => [
      { name: `the raw key ${key.slice(0, 17)}…`, bytes: Buffer.from(key), allowedIn: key === adminKey ? 'admin.key' : undefined },
      // After `ibx_<12-char id>_`: the base64url secret may itself contain '_'.
      { name: `the secret part of ${key.slice(0, 17)}…`, bytes: Buffer.from(/^ibx_[^_]{12}_(.{43})$/.exec(key)![1]!), allowedIn: key === adminKey ? 'admin.key' : undefined },
    ]);
    const wrongKeyNeedles = [wrongSecret, unknownId].map((key) => ({ name: `the refused key ${key.slice(0, 17)}…`, bytes: Buffer.from(key) }));
    const needles = [...keyNeedles, ...wrongKeyNeedles, ...markerForms()];
    const scan = async () => {
      const files = await filesUnder(dataDir);
      return { files, found: findings(await Promise.all(files.map(async (f) => ({ where: relative(dataDir, f), bytes: await readFile(f) }))), needles) };
    };

    // While running: the request log and key times are written within a second; the WAL holds them.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const running = await scan();
    assert.ok(running.files.some((f) => f.endsWith('inferbox.db-wal')), `the WAL was searched: ${running.files.join(', ')}`);
    assert.deepEqual(running.found, [], 'while the server runs');

    server.kill('SIGTERM');
    const [code] = (await once(server, 'exit')) as [number];
    assert.equal(code, 0);
    const stopped = await scan();
    assert.ok(stopped.files.some((f) => f.endsWith('inferbox.db')), 'the database was searched');
    assert.deepEqual(stopped.found, [], 'after the stop');
    assert.deepEqual(findings([{ where: 'the server output', bytes: Buffer.from(printed) }], needles), []);
    assert.ok(findings([{ where: 'admin.key', bytes: await readFile(join(dataDir, 'admin.key')) }], keyNeedles.slice(0, 1).map((n) => ({ ...n, allowedIn: undefined }))).length === 1, 'the search finds what is there (the admin key in admin.key)');
  } finally {
    server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
