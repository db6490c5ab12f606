import { InferboxError } from '../common/errors.js';
import { isDiskFull } from '../common/isDiskFull.js';
import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import type { SkippedNode } from './quantizeDynamicMatMul.js';

export interface CandidateRequest {
  sourcePath: string;
  targetPath: string;
}

export type CandidateReply =
  | { ok: true; written: boolean; quantized: string[]; skipped: SkippedNode[]; convNodes: number; reason: string | null }
  /** `code`: the Node error code (ENOSPC …), which a thread boundary would otherwise lose. */
  | { ok: false; error: string; code: string | null };

export type Int8Candidate = Omit<Extract<CandidateReply, { ok: true }>, 'ok'>;

/** Quantizes `sourcePath` into `targetPath` in a worker thread; `written` is false when nothing was worth it. `signal` ends the thread. */
export function makeInt8Candidate(request: CandidateRequest, signal?: AbortSignal): Promise<Int8Candidate> {
  const worker = spawnWorker(siblingModule(import.meta.url, 'candidateWorker'), { workerData: request });
  let onAbort: (() => void) | undefined;
  return new Promise<Int8Candidate>((resolve, reject) => {
    onAbort = () => reject(signal!.reason);
    // The signal outlives the job (the server's stop signal): the listener must go with it.
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: CandidateReply) => {
      if (reply.ok) {
        const { ok: _ok, ...candidate } = reply;
        resolve(candidate);
      } else {
        const cause = Object.assign(new Error(reply.error), { code: reply.code });
        reject(isDiskFull(cause) ? new InferboxError('IBX_ERR_DISK_FULL', ['write the int8 candidate'], { cause }) : cause);
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the quantization worker stopped (code ${code})`)));
  }).finally(() => {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    void worker.terminate();
  });
}
