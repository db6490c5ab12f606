import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slowModel } from '../../fixtures/onnxModels.js';
import { startTestServer } from '../../helpers/testServer.js';

test('health is answered while a slow inference is still running (sessions run in workers)', async () => {
  const server = await startTestServer({ execution: { instances: 1, intraOpThreads: 1 } });
  try {
    const upload = await server.request('POST', '/api/models/slow/versions', { body: slowModel(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const events: string[] = [];
    const inference = server
      .request('POST', '/v2/models/slow/infer', { json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, i) => i / 64) }] } })
      .then((response) => { events.push(`infer ${response.status}`); });
    // Give the request time to reach the worker (one run takes ~0.8 s) before asking for health.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const live = await server.request('GET', '/v2/health/live', { key: null });
    events.push(`live ${live.status}`);
    await inference;
    assert.deepEqual(events, ['live 200', 'infer 200'], 'live answered first, while the inference was still running');
  } finally {
    await server.cleanup();
  }
});
