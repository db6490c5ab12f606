/**
 * Runs two models side by side on the same inputs with the same settings, for the int8 accuracy
 * gate (compareSessions). A dedicated thread: it never competes with the serving workers' queues,
 * and the HTTP thread never runs a session.
 */
import { parentPort, workerData } from 'node:worker_threads';
import './disableOrtTelemetry.js'; // before onnxruntime-node loads: see the file
import * as ort from 'onnxruntime-node';
import { transferablesOf } from '../common/datatypes.js';
import type { EvaluationRequest, EvaluationResult } from './compareModels.js';
import { compareSessions } from './compareSessions.js';

const request = workerData as EvaluationRequest & { stop: Int32Array };

/** Checked between runs: the caller asked to stop (see compareModels). */
function checkStop(): void {
  if (Atomics.load(request.stop, 0) === 1) throw new Error('the evaluation was stopped');
}

async function evaluate(): Promise<EvaluationResult> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: request.executionProviders,
    intraOpNumThreads: request.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const sessions = [await ort.InferenceSession.create(request.baselinePath, options), await ort.InferenceSession.create(request.candidatePath, options)] as const;
  try {
    return await compareSessions(sessions, request.samples, request.outputNames, { timedSamples: request.timedSamples, budgetMs: request.timingBudgetMs, margin: request.speedupMargin }, checkStop);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

evaluate().then(
  (result) => parentPort!.postMessage({ ok: true, result }, transferablesOf([...result.baseline, ...result.candidate].flatMap((o) => Object.values(o)))),
  (error: unknown) => parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
);
