import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import type { RuntimeTensor } from '../common/datatypes.js';

export interface EvaluationRequest {
  baselinePath: string;
  candidatePath: string;
  samples: Record<string, RuntimeTensor>[];
  outputNames: string[];
  executionProviders: string[];
  /** The serving workers' thread count, so the latencies compare what will really be served. */
  intraOpThreads: number;
  /** How many samples are timed (all are compared) and how often each is run per model. */
  timedSamples: number;
  timingRepeats: number;
}

export interface ModelRuns {
  /** Per sample, its outputs by name. */
  outputs: Record<string, RuntimeTensor>[];
  medianMs: number;
}

export interface EvaluationResult {
  baseline: ModelRuns;
  candidate: ModelRuns;
}

/** Runs baseline and candidate on the same samples in a worker thread of its own; rejects with ORT's reason, or when `signal` aborts. */
export function compareModels(request: EvaluationRequest, signal?: AbortSignal): Promise<EvaluationResult> {
  // Stop flag the worker reads between runs. Ending a thread inside a native onnxruntime call can
  // abort the whole process, so a stop is cooperative: the worker finishes the run in hand, releases
  // its sessions and answers.
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = spawnWorker(siblingModule(import.meta.url, 'evaluationWorker'), { workerData: { ...request, stop } });
  return new Promise<EvaluationResult>((resolve, reject) => {
    signal?.addEventListener('abort', () => Atomics.store(stop, 0, 1), { once: true });
    worker.once('message', (reply: { ok: true; result: EvaluationResult } | { ok: false; error: string }) => {
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the evaluation worker stopped (code ${code})`)));
  }).finally(() => void worker.terminate());
}
