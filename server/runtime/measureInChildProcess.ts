import { ChildProcessEnded, runInChildProcess } from '../common/runInChildProcess.js';
import { InferboxError, type ErrorCode } from '../common/errors.js';
import { siblingModule } from '../common/spawnWorker.js';
import { OVER_LIMIT_MARKER, type MeasuredModel, type MeasureReply } from './sessionCost.js';

/** The measuring child grew past its limit and stopped itself: the model does not fit what is left. */
export class OverMemoryLimit extends Error {
  constructor(readonly limitBytes: number) {
    super(`one session took more than ${limitBytes} bytes`);
    this.name = 'OverMemoryLimit';
  }
}

/**
 * Checks a model file and measures one session of it in a child process of its own
 * (measurementProcess). Rejects with the file check's InferboxError (not ONNX, external data
 * outside its folder), OverMemoryLimit when one session grows the child by more than `limitBytes`,
 * onnxruntime's error, or the child's end (a crash, the time limit): never the server's end.
 */
export async function measureInChildProcess(path: string, options: { limitBytes: number; timeoutMs: number }): Promise<MeasuredModel> {
  let reply: MeasureReply;
  try {
    reply = await runInChildProcess<MeasureReply>(siblingModule(import.meta.url, 'measurementProcess'), { path, limitBytes: options.limitBytes }, 'measurement', {
      timeoutMs: options.timeoutMs,
      // To collect the file check's garbage before the baseline (measureSessionCost).
      extraExecArgv: ['--expose-gc'],
    });
  } catch (error) {
    if (error instanceof ChildProcessEnded && error.stderr.includes(OVER_LIMIT_MARKER)) throw new OverMemoryLimit(options.limitBytes);
    throw error;
  }
  if (reply.ok) return reply.result;
  if ('code' in reply) throw new InferboxError(reply.code as ErrorCode, reply.args);
  throw new Error(reply.error);
}
