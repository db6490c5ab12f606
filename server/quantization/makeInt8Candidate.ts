import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import type { SkippedNode } from './quantizeDynamicMatMul.js';

export interface CandidateRequest {
  sourcePath: string;
  targetPath: string;
}

export type CandidateReply =
  | { ok: true; written: boolean; quantized: string[]; skipped: SkippedNode[]; convNodes: number; reason: string | null }
  | { ok: false; error: string };

export type Int8Candidate = Omit<Extract<CandidateReply, { ok: true }>, 'ok'>;

/** Quantizes `sourcePath` into `targetPath` in a worker thread; `written` is false when nothing was worth it. `signal` ends the thread. */
export function makeInt8Candidate(request: CandidateRequest, signal?: AbortSignal): Promise<Int8Candidate> {
  const worker = spawnWorker(siblingModule(import.meta.url, 'candidateWorker'), { workerData: request });
  return new Promise<Int8Candidate>((resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    worker.once('message', (reply: CandidateReply) => {
      if (reply.ok) {
        const { ok: _ok, ...candidate } = reply;
        resolve(candidate);
      } else reject(new Error(reply.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the quantization worker stopped (code ${code})`)));
  }).finally(() => void worker.terminate());
}
