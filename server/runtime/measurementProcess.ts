/**
 * A child process that checks an uploaded model file and measures what one session of it costs
 * (measureInChildProcess), answers over IPC and exits. Here rather than in the server: memory that
 * onnxruntime takes is not given back to the OS when its session is released (measured: a 9 MB
 * file of 200,000 Identity nodes raised a process's RSS by 508 MB and none of it came back after
 * release), so a model over the budget must never load in the server; and decoding a large graph
 * (100-400 ms for 20,000-40,000 nodes with protobufjs) must not hold the HTTP thread.
 */
import { readFile } from 'node:fs/promises';
import { InferboxError, inferboxError, messageOf } from '../common/errors.js';
import { isInsideModelFolder, readOnnxInfo } from '../onnx/readOnnxInfo.js';
import { measureSessionCost } from './measureSessionCost.js';
import type { MeasureReply, MeasureRequest } from './sessionCost.js';

async function measure(request: MeasureRequest) {
  const info = readOnnxInfo(await readFile(request.path));
  // Before onnxruntime opens the file: it would read any file named there as weights.
  const outside = info.externalDataLocations.find((location) => !isInsideModelFolder(location));
  if (outside !== undefined) throw inferboxError('IBX_ERR_EXTERNAL_DATA_REFUSED', outside);
  return { info, ...(await measureSessionCost(request.path, request.limitBytes)) };
}

process.once('message', (request: MeasureRequest) => {
  const answer = (reply: MeasureReply) => process.send!(reply, () => process.exit(0));
  measure(request).then(
    (result) => answer({ ok: true, result }),
    (error: unknown) => answer(error instanceof InferboxError ? { ok: false, code: error.code, args: [...error.args] } : { ok: false, error: messageOf(error) }),
  );
});
