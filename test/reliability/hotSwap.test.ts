import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../helpers/testServer.js';

const MLP_FILE = new URL('../../models/mlp/model.onnx', import.meta.url).pathname;
const CLIENTS = 4;

async function waitForInt8Job(server: TestServer, version: string): Promise<void> {
  for (;;) {
    const job = (await (await server.request('GET', `/api/models/mlp/versions/${version}/quantization`)).json()) as { status: string };
    if (job.status === 'done') return;
    assert.notEqual(job.status, 'failed');
    await sleep(100);
  }
}

test('hot swap: activating versions and switching int8/fp32 under constant load from several clients fails no request', async () => {
  const server = await startTestServer();
  try {
    const upload = await server.request('POST', '/api/models/mlp/versions', { body: await readFile(MLP_FILE), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    await waitForInt8Job(server, '1');
    await waitForInt8Job(server, '2');

    const failures: string[] = [];
    const servedBy = new Map<string, number>();
    let running = true;
    const client = async () => {
      while (running) {
        const response = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
        const body = (await response.json()) as { model_version?: string; error?: string };
        if (response.status !== 200) failures.push(`${response.status} ${body.error}`);
        else servedBy.set(body.model_version!, (servedBy.get(body.model_version!) ?? 0) + 1);
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    const served = () => [...servedBy.values()].reduce((a, b) => a + b, 0);
    const swaps: [string, string, unknown?][] = [
      ['POST', '/api/models/mlp/versions/2/activate'],
      ['PUT', '/api/models/mlp/versions/2/precision', { precision: 'int8' }],
      ['POST', '/api/models/mlp/versions/1/activate'],
      ['PUT', '/api/models/mlp/versions/1/precision', { precision: 'int8' }],
      ['PUT', '/api/models/mlp/versions/1/precision', { precision: 'fp32' }],
      ['POST', '/api/models/mlp/versions/2/activate'],
      ['PUT', '/api/models/mlp/versions/2/precision', { precision: 'fp32' }],
      ['POST', '/api/models/mlp/versions/1/activate'],
    ];
    try {
      for (const [method, path, json] of swaps) {
        const before = served();
        while (served() < before + 50) await sleep(5); // traffic flows before each swap
        const response = await server.request(method, path, json === undefined ? {} : { json });
        assert.equal(response.status, 200, `${method} ${path}: ${await response.text()}`);
      }
      const before = served();
      while (served() < before + 50) await sleep(5);
    } finally {
      running = false;
      await load;
    }
    assert.deepEqual(failures, [], 'no request failed during the swaps');
    assert.ok((servedBy.get('1') ?? 0) > 0 && (servedBy.get('2') ?? 0) > 0, `both versions answered: ${JSON.stringify([...servedBy])}`);
    const precisions = (await (await server.request('GET', '/api/models/mlp')).json()) as { versions: { version: string; served_precision: string }[] };
    assert.deepEqual(precisions.versions.map((v) => v.served_precision), ['fp32', 'fp32'], 'the last swaps took effect');
  } finally {
    await server.cleanup();
  }
});
