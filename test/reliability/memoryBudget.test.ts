import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildMlpStack } from '../../models/lib/mlpStack.js';
import { estimateSessionBytes } from '../../server/runtime/estimateSessionBytes.js';
import { GENTOO_FEATURES, startTestServer } from '../helpers/testServer.js';

/** One 512→2048→512 layer: an 8 MB file, about 21 MB per instance by the estimate. */
const STACK = buildMlpStack({ layers: 1, hidden: 512, inner: 2048, tokens: 2, seed: 3 });

interface Memory { model_budget_bytes: number; models_estimated_bytes: number; total_bytes: number }

test('memory budget: a model that would exceed it is refused with a clear 507 and leaves nothing behind; within it, it loads', async () => {
  const server = await startTestServer();
  try {
    const memory = async () => ((await (await server.request('GET', '/api/system')).json()) as { memory: Memory }).memory;
    const automatic = await memory();
    assert.equal(automatic.model_budget_bytes, Math.floor(automatic.total_bytes * 0.75), 'default: 75% of the machine');
    const mlpBytes = automatic.models_estimated_bytes;
    assert.ok(mlpBytes >= estimateSessionBytes(0), 'the bundled model counts');

    const stackBytes = estimateSessionBytes(STACK.length);
    const budget = mlpBytes + stackBytes - 1; // one byte short
    assert.equal((await server.request('PUT', '/api/settings', { json: { model_memory_budget_bytes: budget } })).status, 200);
    const upload = () => server.request('POST', '/api/models/stack/versions?quantize=false', { body: STACK, headers: { 'content-type': 'application/octet-stream' } });
    const refused = await upload();
    assert.equal(refused.status, 507);
    assert.match(((await refused.json()) as { error: string }).error,
      /^loading 'stack\/1' needs about 21 MB of memory \(1 instance\(s\) × 21 MB each\); 21 MB of the \d+ MB model memory budget \(model_memory_budget_bytes\) is left\. Unload a model/);
    assert.equal((await server.request('GET', '/api/models/stack')).status, 404);
    assert.equal(existsSync(join(server.dataDir, 'models', 'stack')), false, 'no files of the refused model');
    assert.equal((await memory()).models_estimated_bytes, mlpBytes, 'nothing reserved is left counted');
    const inferred = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    assert.equal(inferred.status, 200, 'serving goes on');

    assert.equal((await server.request('PUT', '/api/settings', { json: { model_memory_budget_bytes: budget + 1 } })).status, 200);
    assert.equal((await upload()).status, 201, 'exactly at the budget it loads');
    assert.equal((await memory()).models_estimated_bytes, mlpBytes + stackBytes);

    // Unloaded, the room is free again; a lower budget then refuses loading it back.
    assert.equal((await server.request('POST', '/api/models/stack/versions/1/unload')).status, 200);
    assert.equal((await memory()).models_estimated_bytes, mlpBytes);
    assert.equal((await server.request('PUT', '/api/settings', { json: { model_memory_budget_bytes: mlpBytes + 1024 } })).status, 200);
    const load = await server.request('POST', '/api/models/stack/versions/1/load');
    assert.equal(load.status, 507);
    assert.match(((await load.json()) as { error: string }).error, /model memory budget/);
    assert.equal(((await (await server.request('GET', '/api/models/stack/versions/1')).json()) as { state: string }).state, 'failed');
  } finally {
    await server.cleanup();
  }
});
