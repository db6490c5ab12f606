import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { compareModels } from '../../../server/runtime/compareModels.js';

const MLP = new URL('../../../models/mlp/model.onnx', import.meta.url).pathname;
const sample = { features: { type: 'float32' as const, dims: [1, 4], data: Float32Array.from([47.5, 15, 217, 5076]) } };

test('comparisons sharing the server\'s stop signal leave no listener on it (no MaxListenersExceededWarning)', async () => {
  const stop = new AbortController();
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    for (let i = 0; i < 12; i++) {
      const result = await compareModels(
        { baselinePath: MLP, candidatePath: MLP, samples: [sample], outputNames: ['probabilities'], executionProviders: ['cpu'], intraOpThreads: 1, timedSamples: 1, timingBudgetMs: 100, speedupMargin: 1.05 },
        stop.signal,
      );
      assert.deepEqual(result.baseline[0]!.probabilities!.data, result.candidate[0]!.probabilities!.data, 'the same model answers alike');
      assert.equal(getEventListeners(stop.signal, 'abort').length, 0, `after comparison ${i + 1}`);
    }
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});

test('a model timed against itself measures a speed-up near 1', async () => {
  const result = await compareModels({ baselinePath: MLP, candidatePath: MLP, samples: [sample], outputNames: ['probabilities'], executionProviders: ['cpu'], intraOpThreads: 1, timedSamples: 1, timingBudgetMs: 2000, speedupMargin: 1.05 });
  const { low, high, pairs } = result.speed.estimate!;
  // Two sessions of one file are not timed alike to the percent (measured 1.003-1.049x once): hence decideBySpeed's 3% band.
  assert.ok(low > 0.9 && high < 1.1, `[${low}, ${high}]`);
  assert.ok(pairs >= 30);
});
