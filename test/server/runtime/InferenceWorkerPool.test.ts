import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferboxError } from '../../../server/common/errors.js';
import { detectProviders } from '../../../server/runtime/detectProviders.js';
import { INLINE_MAX_RUN_MS, InferenceWorkerPool, type LoadProblem } from '../../../server/runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../../../server/runtime/SessionRunError.js';
import { addModel, gpuRunFailingModel, slowModel } from '../../fixtures/onnxModels.js';
import type { SessionKey } from '../../../server/common/SessionKey.js';

const key = (model: string, version: string): SessionKey => ({ model, version, precision: 'fp32' });

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
    const loaded = await pool.load(key('add', '1'), modelPath);
    assert.equal(loaded.provider, 'cpu');
    assert.deepEqual(loaded.inputs.map((i) => [i.name, i.type, i.shape]), [['a', 'float32', ['batch', 3]], ['b', 'float32', ['batch', 3]]]);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(key('add', '1'), feeds(i + 1), ['sum'])));
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
    const loaded = await pool.load(key('add', '1'), modelPath);
    assert.equal(loaded.provider, 'cpu');
    assert.match(loaded.fallbackReason ?? '', /^cuda failed: /);
    const result = await pool.run(key('add', '1'), feeds(1), ['sum']);
    assert.deepEqual(Array.from(result.outputs.sum!.data as Float32Array), [3, 3, 3]);
  } finally {
    await pool.close();
  }
});

test('a run ORT refuses is a SessionRunError; a model ORT cannot load is refused everywhere', async () => {
  const pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  try {
    await pool.load(key('add', '1'), modelPath);
    const bad = { a: feeds(1).a, b: { type: 'float32' as const, dims: [1, 4], data: new Float32Array(4) } };
    await assert.rejects(pool.run(key('add', '1'), bad, ['sum']), SessionRunError);
    const garbage = join(dir, 'garbage.onnx');
    await writeFile(garbage, 'not a model');
    await assert.rejects(pool.load(key('garbage', '1'), garbage), (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_MODEL_REJECTED');
    await assert.rejects(pool.run(key('garbage', '1'), feeds(1), ['sum']), (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_SESSION_UNAVAILABLE' && e.status === 503);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run(key('add', '1'), feeds(1), ['sum']), /shutting down/);
});

const until = async (condition: () => boolean, what: string, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test('a model starts on minInstances workers, spreads while requests back up, and shrinks back when quiet', async () => {
  const pool = new InferenceWorkerPool({ instances: 3, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1, scaleDownAfterMs: 300 });
  const placement = { minInstances: 1, maxInstances: 2, inline: false };
  try {
    await pool.load(key('add', '1'), modelPath, () => placement);
    assert.equal(pool.placementStatus(key('add', '1'))?.workers, 1);
    assert.equal(pool.capacity(key('add', '1')), 1);
    pool.reportBacklog(key('add', '1'));
    pool.reportBacklog(key('add', '1')); // a second report while the first load runs adds nothing more
    await until(() => pool.placementStatus(key('add', '1'))?.workers === 2, 'a second worker');
    pool.reportBacklog(key('add', '1'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(pool.placementStatus(key('add', '1'))?.workers, 2, 'maxInstances caps the spread below the 3 workers');
    assert.equal(pool.capacity(key('add', '1')), 2);
    const results = await Promise.all(Array.from({ length: 10 }, () => pool.run(key('add', '1'), feeds(2), ['sum'])));
    assert.ok(results.every((r) => (r.outputs.sum!.data as Float32Array).every((v) => v === 3)));
    await until(() => pool.placementStatus(key('add', '1'))?.workers === 1, 'the extra worker to go after 300 ms without a backlog');
    placement.minInstances = 3;
    placement.maxInstances = 3;
    await until(() => pool.placementStatus(key('add', '1'))?.workers === 3, 'a raised minInstances to load more workers');
    const after = await pool.run(key('add', '1'), feeds(1), ['sum']);
    assert.deepEqual(Array.from(after.outputs.sum!.data as Float32Array), [3, 3, 3]);
  } finally {
    await pool.close();
  }
});

test('a tiny model is timed on the HTTP thread as it loads and runs there, answering the same; with inline off it stays on workers', async () => {
  const pool = new InferenceWorkerPool({ instances: 1, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  try {
    await pool.load(key('add', '1'), modelPath, () => ({ minInstances: 1, maxInstances: 1, inline: true }));
    await pool.load(key('add', '2'), modelPath, () => ({ minInstances: 1, maxInstances: 1, inline: false }));
    // Timed on the HTTP thread as it loads, before any request; where it then runs follows that
    // timing (on a busy machine a run can take longer than the limit: then it stays on the workers).
    await until(() => pool.placementStatus(key('add', '1'))?.inlineRunMs != null, 'the add model timed on the HTTP thread');
    const timed = pool.placementStatus(key('add', '1'))!;
    assert.equal(timed.runMs, null, 'no worker run was needed to decide');
    assert.equal(timed.inline, timed.inlineRunMs! < INLINE_MAX_RUN_MS, `placed by its timing (${timed.inlineRunMs} ms)`);
    for (let i = 0; i < 40; i++) await pool.run(key('add', '2'), feeds(1), ['sum']);
    assert.equal(pool.placementStatus(key('add', '2'))?.inline, false, 'inline: false keeps it on the workers');
    assert.equal(pool.placementStatus(key('add', '2'))?.inlineRunMs, null, 'and it is never timed on the HTTP thread');
    const inline = await pool.run(key('add', '1'), feeds(3), ['sum']);
    assert.deepEqual(inline.outputs.sum!.dims, [3, 3]);
    assert.ok((inline.outputs.sum!.data as Float32Array).every((v) => v === 3));
    await pool.unload(key('add', '1'));
    await assert.rejects(pool.run(key('add', '1'), feeds(1), ['sum']), (e: unknown) => e instanceof InferboxError && e.code === 'IBX_ERR_SESSION_UNAVAILABLE');
  } finally {
    await pool.close();
  }
});

test('a tiny model loaded while the HTTP thread is busy is still timed by its own runs: the warm-up and the wait for the thread do not count', async () => {
  const pool = new InferenceWorkerPool({ instances: 1, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  // Keeps the HTTP thread busy in 3 ms slices, as a starting server is (restoring, quantizing):
  // every timed run is queued behind one. Before, the first run (a few ms) or the wait decided.
  let busy = true;
  const hog = () => {
    const until = performance.now() + 3;
    while (performance.now() < until);
    if (busy) setImmediate(hog);
  };
  try {
    setImmediate(hog);
    await pool.load(key('add', '1'), modelPath, () => ({ minInstances: 1, maxInstances: 1, inline: true }));
    await until(() => pool.placementStatus(key('add', '1'))?.inlineRunMs != null, 'the timing at load');
    busy = false;
    const timed = pool.placementStatus(key('add', '1'))!;
    assert.ok(timed.inlineRunMs! < 3, `the 3 ms waits are not the model's (${timed.inlineRunMs} ms)`);
    assert.equal(timed.inline, timed.inlineRunMs! < INLINE_MAX_RUN_MS, `placed by its timing (${timed.inlineRunMs} ms)`);
    const result = await pool.run(key('add', '1'), feeds(2), ['sum']);
    assert.ok((result.outputs.sum!.data as Float32Array).every((v) => v === 3));
  } finally {
    busy = false;
    await pool.close();
  }
});

test('a model file above the calibration size is not timed on the HTTP thread: it starts on the workers', async () => {
  const pool = new InferenceWorkerPool({ instances: 1, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  const slowDir = await mkdtemp(join(tmpdir(), 'inferbox-pool-slow-'));
  try {
    const slow = join(slowDir, 'slow.onnx');
    await writeFile(slow, slowModel(2));
    await pool.load(key('slow', '1'), slow, () => ({ minInstances: 1, maxInstances: 1, inline: true }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual([pool.placementStatus(key('slow', '1'))?.inline, pool.placementStatus(key('slow', '1'))?.inlineRunMs], [false, null]);
  } finally {
    await pool.close();
    await rm(slowDir, { recursive: true, force: true });
  }
});

test('WebGPU sessions all live in one worker, one instance per model, so no two threads run WebGPU at once (that crashes onnxruntime-node)', async (t) => {
  process.env.XDG_RUNTIME_DIR ??= dir; // Mesa's Vulkan drivers want a private runtime directory
  const pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1, scaleDownAfterMs: 60_000 });
  try {
    const onGpu = { minInstances: 2, maxInstances: 2, inline: true, session: { executionProviders: ['webgpu', 'cpu'], intraOpThreads: 1 } };
    const first = await pool.load(key('add', '1'), modelPath, () => onGpu);
    if (first.provider !== 'webgpu') {
      if (process.env.CI_REQUIRE_WEBGPU === '1') assert.fail(`no WebGPU adapter: ${first.fallbackReason}`);
      t.skip(`no WebGPU adapter here: ${first.fallbackReason}`);
      return;
    }
    await pool.load(key('add', '2'), modelPath, () => onGpu);
    await pool.load(key('add', 'cpu'), modelPath, () => ({ minInstances: 2, maxInstances: 2, inline: false }));
    // Many at once, on both WebGPU models and the CPU one: the backlog would spread a CPU model to more workers.
    const runs = await Promise.all(Array.from({ length: 60 }, (_, i) => pool.run(key('add', ['1', '2', 'cpu'][i % 3]!), feeds(1 + (i % 4)), ['sum'])));
    for (const run of runs) assert.ok((run.outputs.sum!.data as Float32Array).every((v) => v === 3));
    for (const version of ['1', '2']) {
      assert.deepEqual(pool.placementStatus(key('add', version))?.workers, 1, `WebGPU model ${version} stays on one worker`);
      assert.equal(pool.placementStatus(key('add', version))?.inline, false, 'and off the HTTP thread');
    }
    assert.equal(pool.placementStatus(key('add', 'cpu'))?.workers, 2);
  } finally {
    await pool.close();
  }
});

test('a GPU session that fails a run: the CPU answers that request and the model moves to the CPU with the reason; an input the CPU refuses too gets its error and leaves the model on the GPU', async (t) => {
  process.env.XDG_RUNTIME_DIR ??= dir;
  const path = join(dir, 'gpu-run-failing.onnx');
  await writeFile(path, gpuRunFailingModel());
  const problems: LoadProblem[] = [];
  const pool = new InferenceWorkerPool({ instances: 2, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 }, undefined, undefined, (p) => problems.push(p));
  const rows = (n: number) => ({ x: { type: 'float32' as const, dims: [n, 20], data: Float32Array.from({ length: n * 20 }, (_, i) => i) } });
  try {
    const loaded = await pool.load(key('split', '1'), path, () => ({ minInstances: 1, maxInstances: 2, inline: true, session: { executionProviders: ['webgpu', 'cpu'], intraOpThreads: 1 } }));
    if (loaded.provider !== 'webgpu') {
      if (process.env.CI_REQUIRE_WEBGPU === '1') assert.fail(`no WebGPU adapter: ${loaded.fallbackReason}`);
      t.skip(`no WebGPU adapter here: ${loaded.fallbackReason}`);
      return;
    }
    // One row cannot be reshaped to 3 rows: the CPU refuses it as well, so it is the input's fault.
    await assert.rejects(pool.run(key('split', '1'), rows(1), ['rows', 'thirds']), (e: unknown) => e instanceof SessionRunError && /Reshape/.test(e.message) && !/storage buffers/.test(e.message));
    assert.deepEqual([pool.placementStatus(key('split', '1'))?.provider, pool.placementStatus(key('split', '1'))?.runFallbackReason], ['webgpu', null], 'a bad input does not move the model');
    assert.equal(problems.length, 0, 'nothing logged');

    // Three rows: the GPU fails, the CPU answers; the request gets the CPU's answer.
    const answered = await pool.run(key('split', '1'), rows(3), ['rows', 'thirds']);
    assert.deepEqual([...(answered.outputs.rows!.data as Float32Array)], Array.from({ length: 60 }, (_, i) => i));
    assert.deepEqual(answered.outputs.thirds!.dims, [3, 20]);
    const status = pool.placementStatus(key('split', '1'))!;
    assert.equal(status.provider, 'cpu');
    assert.match(status.runFallbackReason ?? '', /^webgpu failed a run that the CPU provider answers: .*Too many storage buffers in shader/);
    assert.ok(!status.runFallbackReason!.includes(dir), 'the reason callers see names no file path');
    assert.deepEqual(problems.map((p) => [p.model, p.version, p.kind]), [['split', '1', 'provider fallback']]);

    // From then on a CPU model: concurrent runs all answer, and it may spread to the second worker.
    const runs = await Promise.all(Array.from({ length: 40 }, () => pool.run(key('split', '1'), rows(6), ['rows'])));
    for (const run of runs) assert.equal((run.outputs.rows!.data as Float32Array)[119], 119);
    assert.equal(problems.length, 1, 'moved once');
  } finally {
    await pool.close();
  }
});
