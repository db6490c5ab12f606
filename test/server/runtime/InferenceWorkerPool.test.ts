import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferboxError } from '../../../server/common/errors.js';
import { detectProviders } from '../../../server/runtime/detectProviders.js';
import { InferenceWorkerPool } from '../../../server/runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../../../server/runtime/SessionRunError.js';
import { addModel } from '../../fixtures/onnxModels.js';

let dir: string;
let modelPath: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inferbox-pool-'));
  modelPath = join(dir, 'add.onnx');
  await writeFile(modelPath, addModel());
});
after(() => rm(dir, { recursive: true, force: true }));

const feeds = (rows: number) => ({
  a: { type: 'float32' as const, dims: [rows, 3], data: new Float32Array(rows * 3).fill(1) },
  b: { type: 'float32' as const, dims: [rows, 3], data: new Float32Array(rows * 3).fill(2) },
});

test('runs spread over the instances and all answer correctly', async () => {
  const pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  try {
    const loaded = await pool.load('add/1', modelPath);
    assert.equal(loaded.provider, 'cpu');
    assert.deepEqual(loaded.inputs.map((i) => [i.name, i.type, i.shape]), [['a', 'float32', ['batch', 3]], ['b', 'float32', ['batch', 3]]]);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('add/1', feeds(i + 1), ['sum'])));
    results.forEach((result, i) => {
      assert.deepEqual(result.outputs.sum!.dims, [i + 1, 3]);
      assert.ok((result.outputs.sum!.data as Float32Array).every((v) => v === 3));
      assert.ok(result.inferMs >= 0 && result.queueMs >= 0);
    });
  } finally {
    await pool.close();
  }
});

test('a provider that cannot start falls back to CPU and says why', async (t) => {
  if (detectProviders().cuda) {
    t.skip('the CUDA provider is installed here, so it would not fail');
    return;
  }
  const pool = new InferenceWorkerPool({ instances: 1, executionProviders: ['cuda', 'cpu'], intraOpThreads: 1, interOpThreads: 1 });
  try {
    const loaded = await pool.load('add/1', modelPath);
    assert.equal(loaded.provider, 'cpu');
    assert.match(loaded.fallbackReason ?? '', /^cuda failed: /);
    const result = await pool.run('add/1', feeds(1), ['sum']);
    assert.deepEqual(Array.from(result.outputs.sum!.data as Float32Array), [3, 3, 3]);
  } finally {
    await pool.close();
  }
});

test('a run ORT refuses is a SessionRunError; a model ORT cannot load is refused everywhere', async () => {
  const pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  try {
    await pool.load('add/1', modelPath);
    const bad = { a: feeds(1).a, b: { type: 'float32' as const, dims: [1, 4], data: new Float32Array(4) } };
    await assert.rejects(pool.run('add/1', bad, ['sum']), SessionRunError);
    const garbage = join(dir, 'garbage.onnx');
    await writeFile(garbage, 'not a model');
    await assert.rejects(pool.load('garbage/1', garbage), (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_MODEL_REJECTED');
    await assert.rejects(pool.run('garbage/1', feeds(1), ['sum']), (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_SESSION_UNAVAILABLE' && e.status === 503);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run('add/1', feeds(1), ['sum']), /shutting down/);
});
