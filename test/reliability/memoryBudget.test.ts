import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildMlpStack } from '../../models/lib/mlpStack.js';
import { GENTOO_FEATURES, startTestServer } from '../helpers/testServer.js';

/** One 512→2048→512 layer: an 8 MB file, about 12-21 MB per instance measured. */
const STACK = buildMlpStack({ layers: 1, hidden: 512, inner: 2048, tokens: 2, seed: 3 });
const MB = 1e6;

interface Memory { model_budget_bytes: number; models_estimated_bytes: number; total_bytes: number }
interface Version { state: string; session_bytes: number | null }

test('memory budget: each version counts its measured session; one that does not fit is refused with a clear 409 and leaves nothing behind; within it, it loads', async () => {
  const server = await startTestServer();
  try {
    const memory = async () => ((await (await server.request('GET', '/api/system')).json()) as { memory: Memory }).memory;
    const version = async (name: string) => (await (await server.request('GET', `/api/models/${name}/versions/1`)).json()) as Version;
    const automatic = await memory();
    assert.equal(automatic.model_budget_bytes, Math.floor(automatic.total_bytes * 0.75), 'default: 75% of the machine');
    const mlpBytes = automatic.models_estimated_bytes;
    const mlpSession = (await version('mlp')).session_bytes!;
    assert.ok(mlpBytes === mlpSession || mlpBytes === 2 * mlpSession, `the bundled model counts its measured session (${mlpSession} bytes), twice while it also runs on the HTTP thread: ${mlpBytes}`);

    const setBudget = async (bytes: number) => assert.equal((await server.request('PUT', '/api/settings', { json: { model_memory_budget_bytes: bytes } })).status, 200);
    const upload = () => server.request('POST', '/api/models/stack/versions?quantize=false', { body: STACK, headers: { 'content-type': 'application/octet-stream' } });
    await setBudget(mlpBytes + MB);
    const refused = await upload();
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: string }).error,
      /^one instance of 'stack\/1' took more than the 1 MB left of the \d+ MB model memory budget \(model_memory_budget_bytes\) while it was measured in a separate process/);
    assert.equal((await server.request('GET', '/api/models/stack')).status, 404);
    assert.equal(existsSync(join(server.dataDir, 'models', 'stack')), false, 'no files of the refused model');
    assert.equal((await memory()).models_estimated_bytes, mlpBytes, 'nothing reserved is left counted');
    const inferred = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    assert.equal(inferred.status, 200, 'serving goes on');

    await setBudget(mlpBytes + 200 * MB);
    assert.equal((await upload()).status, 201, 'within the budget it loads');
    const stackBytes = (await version('stack')).session_bytes!;
    assert.ok(stackBytes > 4 * MB && stackBytes < 100 * MB, `the 8 MB stack measured ${stackBytes} bytes`);
    assert.equal((await memory()).models_estimated_bytes, mlpBytes + stackBytes);

    // Unloaded, the room is free again; loading it back is budgeted by the kept measurement.
    assert.equal((await server.request('POST', '/api/models/stack/versions/1/unload')).status, 200);
    assert.equal((await memory()).models_estimated_bytes, mlpBytes);
    await setBudget(mlpBytes + stackBytes - 1);
    const load = await server.request('POST', '/api/models/stack/versions/1/load');
    assert.equal(load.status, 409);
    const mb = (bytes: number) => Math.round(bytes / MB);
    assert.match(((await load.json()) as { error: string }).error,
      new RegExp(`^loading 'stack/1' needs about ${mb(stackBytes)} MB of memory \\(1 instance\\(s\\) × ${mb(stackBytes)} MB each\\); ${mb(stackBytes - 1)} MB of the \\d+ MB model memory budget`));
    assert.equal((await version('stack')).state, 'failed');
    await setBudget(mlpBytes + stackBytes);
    assert.equal((await server.request('POST', '/api/models/stack/versions/1/load')).status, 200, 'exactly at the budget it loads');
    assert.equal((await memory()).models_estimated_bytes, mlpBytes + stackBytes);
  } finally {
    await server.cleanup();
  }
});
