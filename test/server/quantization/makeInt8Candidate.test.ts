import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeInt8Candidate } from '../../../server/quantization/makeInt8Candidate.js';

const MLP = new URL('../../../models/mlp/model.onnx', import.meta.url).pathname;

test('candidates made under the server\'s stop signal leave no listener on it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inferbox-candidate-'));
  const stop = new AbortController();
  try {
    for (let i = 0; i < 12; i++) {
      const candidate = await makeInt8Candidate({ sourcePath: MLP, targetPath: join(dir, `${i}.onnx`) }, stop.signal);
      assert.equal(candidate.written, true);
      assert.ok((await stat(join(dir, `${i}.onnx`))).size > 0);
      assert.equal(getEventListeners(stop.signal, 'abort').length, 0, `after candidate ${i + 1}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
