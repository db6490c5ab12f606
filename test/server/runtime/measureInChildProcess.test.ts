import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferboxError } from '../../../server/common/errors.js';
import { estimateSessionBytes } from '../../../server/runtime/estimateSessionBytes.js';
import { measureInChildProcess, OverMemoryLimit } from '../../../server/runtime/measureInChildProcess.js';
import { externalDataModel, identityChain } from '../../fixtures/onnxModels.js';

const MLP = new URL('../../../models/mlp/model.onnx', import.meta.url).pathname;
const MB = 1e6;
const NO_LIMIT = Number.POSITIVE_INFINITY;
let dir: string;
const file = async (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
};
before(async () => { dir = await mkdtemp(join(tmpdir(), 'inferbox-measure-')); });
after(() => rm(dir, { recursive: true, force: true }));

test('a session is measured in a child process: the bundled mlp costs little, a 30,000-node Identity chain far more than its file says', async () => {
  const mlp = await measureInChildProcess(MLP, { limitBytes: NO_LIMIT, timeoutMs: 60_000 });
  assert.ok(mlp.sessionBytes < 5 * MB, `mlp: ${mlp.sessionBytes} bytes`);
  assert.equal(mlp.info.opset, 17, 'the ONNX facts come from the same child');

  const bytes = identityChain(30_000);
  const chain = await measureInChildProcess(await file('chain.onnx', bytes), { limitBytes: NO_LIMIT, timeoutMs: 60_000 });
  assert.ok(chain.sessionBytes > 30 * MB, `30,000 Identity nodes: ${chain.sessionBytes} bytes (73 MB measured here)`);
  assert.ok(chain.sessionBytes > 4 * estimateSessionBytes(bytes.length), 'the file-size estimate is far below the real cost');
  assert.ok(chain.loadMs > 20, `creating it takes long (${chain.loadMs} ms), too long for the HTTP thread`);
});

test('the child stops itself once one session grows it past its limit; it never answers with a figure over it', async () => {
  const path = await file('chain-limit.onnx', identityChain(30_000));
  const limitBytes = 20 * MB;
  await assert.rejects(measureInChildProcess(path, { limitBytes, timeoutMs: 60_000 }), (error: unknown) => error instanceof OverMemoryLimit && error.limitBytes === limitBytes);
});

test('the file is checked in the child before onnxruntime opens it: not ONNX, external data outside its folder; a missing file or the time limit is a reason', async () => {
  const notOnnx = await file('not.onnx', new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  await assert.rejects(measureInChildProcess(notOnnx, { limitBytes: NO_LIMIT, timeoutMs: 60_000 }), (error: unknown) => error instanceof InferboxError && error.code === 'IBX_ERR_MALFORMED_ONNX');
  const escaping = await file('escaping.onnx', externalDataModel('../../etc/passwd'));
  await assert.rejects(measureInChildProcess(escaping, { limitBytes: NO_LIMIT, timeoutMs: 60_000 }),
    (error: unknown) => error instanceof InferboxError && error.code === 'IBX_ERR_EXTERNAL_DATA_REFUSED' && /\.\.\/\.\.\/etc\/passwd/.test(error.message));
  await assert.rejects(measureInChildProcess(join(dir, 'missing.onnx'), { limitBytes: NO_LIMIT, timeoutMs: 60_000 }), /ENOENT/);
  const slow = await file('chain-slow.onnx', identityChain(30_000));
  await assert.rejects(measureInChildProcess(slow, { limitBytes: NO_LIMIT, timeoutMs: 300 }), /the measurement took over 0\.3 s and was ended/);
});
