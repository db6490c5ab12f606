import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildModel } from '../../../models/lib/onnxGraph.js';
import { addModel, externalDataModel } from '../../fixtures/onnxModels.js';
import { inferenceClient, type InferenceClient } from '../../helpers/grpcClient.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

/**
 * onnxruntime's load errors name the model file by its absolute path. Callers (HTTP and gRPC
 * answers, a version's status, job submissions) get the message without it; the server log keeps it.
 */

/** Valid ONNX protobuf that onnxruntime refuses to load: no such operator. */
const unloadable = () => buildModel({
  graphName: 'unloadable',
  inputs: [{ name: 'x', type: 'float32', shape: [3] }],
  outputs: [{ name: 'y', type: 'float32', shape: [3] }],
  nodes: [{ op: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
  producer: { name: 'inferbox-test', version: '1' },
});

const logLines: string[] = [];
let server: TestServer;
let client: InferenceClient;

before(async () => {
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logLines.push(chunk.toString('utf8')); done(); } });
  server = await startTestServer({ logger: pino({ level: 'info' }, sink) });
  client = inferenceClient(server.running.grpcTargets[0]!, server.adminKey);
});
after(async () => {
  client.close();
  await server.cleanup();
});

async function answer(response: Response, status: number): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return text;
}

function assertNoDataDir(text: string, what: string): void {
  assert.ok(!text.includes(server.dataDir), `${what} names the data dir: ${text}`);
}

const logged = (pattern: RegExp) => logLines.some((line) => line.includes(server.dataDir) && pattern.test(line));

test('an upload onnxruntime cannot load: the 422 names the file, not the data dir; the log has the full path', async () => {
  const refused = await answer(await server.request('POST', '/api/models/broken/versions?quantize=false', { body: unloadable(), headers: { 'content-type': 'application/octet-stream' } }), 422);
  assert.match(refused, /onnxruntime could not load the model: Load model from model\.onnx failed.*No Op registered for NoSuchOp/);
  assertNoDataDir(refused, 'the upload answer');
  assert.ok(logged(/NoSuchOp/), 'the server log has the message with the path');

  const missingWeights = await answer(await server.request('POST', '/api/models/weights/versions?quantize=false', { body: externalDataModel('weights.bin'), headers: { 'content-type': 'application/octet-stream' } }), 422);
  assert.match(missingWeights, /weights\.bin/);
  assertNoDataDir(missingWeights, 'the upload answer');
  assert.ok(logged(/weights\.bin/));
});

test('a stored file that no longer loads: REST and gRPC answers, job submissions and the version status carry no path', async () => {
  // Three idle versions whose files are then broken: each first request loads (and fails) once.
  for (const name of ['over-rest', 'over-grpc', 'over-job']) {
    await answer(await server.request('POST', `/api/models/${name}/versions?quantize=false`, { body: addModel(), headers: { 'content-type': 'application/octet-stream' } }), 201);
    await answer(await server.request('PUT', `/api/models/${name}/settings`, { json: { idle_unload_seconds: 1 } }), 200);
  }
  const stateOf = async (name: string) => ((await (await server.request('GET', `/api/models/${name}`)).json()) as { versions: { state: string; error: string | null }[] }).versions[0]!;
  const deadline = Date.now() + 10_000;
  for (const name of ['over-rest', 'over-grpc', 'over-job']) {
    while ((await stateOf(name)).state !== 'idle') {
      assert.ok(Date.now() < deadline, `${name} unloads after its idle time`);
      await sleep(200);
    }
    await writeFile(join(server.dataDir, 'models', name, '1', 'model.onnx'), unloadable());
  }
  const inputs = [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }];

  const rest = await answer(await server.request('POST', '/v2/models/over-rest/infer', { json: { inputs } }), 422);
  assert.match(rest, /Load model from model\.onnx failed/);
  assertNoDataDir(rest, 'the REST infer answer');
  const status = await stateOf('over-rest');
  assert.equal(status.state, 'failed');
  assert.match(status.error ?? '', /NoSuchOp/);
  assertNoDataDir(JSON.stringify(status), 'the version status');
  for (const path of ['/api/models', '/api/models/over-rest', '/api/models/over-rest/versions/1']) assertNoDataDir(await answer(await server.request('GET', path), 200), path);

  const raw = Buffer.alloc(12);
  const grpc = await client.call('ModelInfer', { model_name: 'over-grpc', inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [raw, raw] });
  assert.ok(grpc.error, 'the gRPC call fails');
  assert.match(grpc.error.details, /Load model from model\.onnx failed/);
  assertNoDataDir(`${grpc.error.details} ${grpc.error.message}`, 'the gRPC answer');
  const metadata = await client.call('ModelMetadata', { name: 'over-grpc' });
  assertNoDataDir(JSON.stringify(metadata.response ?? metadata.error?.details ?? ''), 'gRPC ModelMetadata');

  const job = await answer(await server.request('POST', '/api/jobs', { json: { model: 'over-job', items: [{ inputs }] } }), 422);
  assert.match(job, /Load model from model\.onnx failed/);
  assertNoDataDir(job, 'the job submission answer');

  assert.ok(logged(/over-rest/) && logged(/over-grpc/) && logged(/over-job/), 'each failed load is in the server log with its path');
});
