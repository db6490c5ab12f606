import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { slowModel } from '../../fixtures/onnxModels.js';
import { compareInChildProcess } from '../../../server/runtime/compareInChildProcess.js';
import type { CompareRequest } from '../../../server/runtime/workerProtocol.js';

const MLP = new URL('../../../models/mlp/model.onnx', import.meta.url).pathname;
let dir: string;
let slowPath: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inferbox-compare-'));
  slowPath = join(dir, 'slow.onnx');
  await writeFile(slowPath, slowModel(300)); // runs of ~0.1-0.3 s: a comparison of many seconds
});
after(() => rm(dir, { recursive: true, force: true }));
/** The slow fixture against itself, with a minute of timing allowed. */
const long = (): CompareRequest => ({
  ...request(['cpu'], 60_000),
  path: slowPath,
  samples: [{ x: { type: 'float32', dims: [1, 64], data: Float32Array.from({ length: 64 }, (_, i) => i / 64) } }],
  outputNames: ['y'],
  timing: { timedSamples: 1, budgetMs: 60_000, margin: 1.0 },
});
const request = (candidate: string[], budgetMs = 300): CompareRequest => ({
  path: MLP,
  baseline: { executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 },
  candidate: { executionProviders: candidate, intraOpThreads: 1, interOpThreads: 1 },
  samples: [{ features: { type: 'float32', dims: [1, 4], data: Float32Array.from([47.5, 15, 217, 5076]) } }],
  outputNames: ['probabilities', 'label'],
  timing: { timedSamples: 1, budgetMs, margin: 1.1 },
});

test('a comparison in a child process answers both sessions\' outputs (int64 included) and the timing', async () => {
  const result = await compareInChildProcess(request(['cpu']), { timeoutMs: 60_000 });
  assert.ok(result.candidate[0]!.label!.data instanceof BigInt64Array, 'typed arrays cross the process boundary as they are');
  assert.deepEqual(result.candidate[0]!.probabilities!.data, result.baseline[0]!.probabilities!.data);
  assert.ok(result.speed.estimate!.pairs >= 6);
});

test('a provider that cannot start is the child\'s error; a stop or the time limit kills the child', async () => {
  await assert.rejects(compareInChildProcess(request(['no-such-provider']), { timeoutMs: 60_000 }), /no-such-provider/);
  const stop = new AbortController();
  const stopped = compareInChildProcess(long(), { timeoutMs: 60_000, signal: stop.signal });
  setTimeout(() => stop.abort(), 1500);
  const started = Date.now();
  await assert.rejects(stopped, /the comparison was stopped/);
  assert.ok(Date.now() - started < 5000, 'at once, not after the 60 s of timing');
  await assert.rejects(compareInChildProcess(long(), { timeoutMs: 1500 }), /took over 1\.5 s and was ended/);
});
