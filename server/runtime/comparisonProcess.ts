/**
 * A child process that compares one file on two sets of session settings (the CPU against WebGPU,
 * for placement), answers over IPC and exits. WebGPU runs here rather than in the server: two
 * threads of one process running onnxruntime-node's WebGPU provider crash it (see
 * InferenceWorkerPool), a driver crash here is a reason rather than the server's end, and a
 * stopping server can kill this process, which it must never do to a thread inside a native run.
 */
import { messageOf } from '../common/errors.js';
import { OrtSessions } from './OrtSessions.js';
import type { CompareRequest } from './workerProtocol.js';

process.once('message', (request: CompareRequest) => {
  const answer = (reply: { ok: true; result: unknown } | { ok: false; error: string }) => process.send!(reply, () => process.exit(0));
  new OrtSessions().compare(request).then(
    (result) => answer({ ok: true, result }),
    (error: unknown) => answer({ ok: false, error: messageOf(error) }),
  );
});
