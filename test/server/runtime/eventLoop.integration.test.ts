import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slowModel } from '../../fixtures/onnxModels.js';
import { startTestServer } from '../../helpers/testServer.js';

/**
 * By order of events, not by a time limit: while one slow inference is pending, health requests
 * sent one after another keep being answered. If a session ran on the HTTP thread, at most the
 * one health request already in flight could finish before the inference did.
 */
test('health is answered while a slow inference is still running (sessions run in workers)', async () => {
  const server = await startTestServer({ execution: { instances: 1, intraOpThreads: 1 } });
  try {
    const upload = await server.request('POST', '/api/models/slow/versions?quantize=false', { body: slowModel(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    let inferenceDone = false;
    const inference = server
      .request('POST', '/v2/models/slow/infer', { json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, i) => i / 64) }] } })
      .then((response) => { inferenceDone = true; return response.status; });
    let answeredWhilePending = 0;
    while (!inferenceDone && answeredWhilePending < 5) {
      const live = await server.request('GET', '/v2/health/live', { key: null });
      assert.equal(live.status, 200);
      if (!inferenceDone) answeredWhilePending += 1;
    }
    assert.equal(await inference, 200);
    assert.equal(answeredWhilePending, 5, 'five health answers, one after another, all before the inference finished');
  } finally {
    await server.cleanup();
  }
});
