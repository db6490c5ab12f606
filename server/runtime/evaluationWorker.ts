/**
 * Runs two models side by side on the same inputs with the same settings, for the int8 accuracy
 * gate: each sample through both (outputs kept), then timed pairs (measureSpeedup) until the
 * speed-up's interval is narrow enough or decides the margin. A dedicated thread: it never
 * competes with the serving workers' queues, and the HTTP thread never runs a session.
 */
import { parentPort, workerData } from 'node:worker_threads';
import './disableOrtTelemetry.js'; // before onnxruntime-node loads: see the file
import * as ort from 'onnxruntime-node';
import { transferablesOf, type RuntimeTensor } from '../common/datatypes.js';
import { measureSpeedup } from '../measurement/measureSpeedup.js';
import type { EvaluationRequest, EvaluationResult } from './compareModels.js';

const request = workerData as EvaluationRequest & { stop: Int32Array };

/** Checked between runs: the caller asked to stop (see compareModels). */
function checkStop(): void {
  if (Atomics.load(request.stop, 0) === 1) throw new Error('the evaluation was stopped');
}

function toOrt(feeds: Record<string, RuntimeTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims)]));
}

function fromOrt(tensor: ort.Tensor): RuntimeTensor {
  const data = Array.isArray(tensor.data) ? (tensor.data as string[]) : (tensor.data as Float32Array).slice();
  return { type: tensor.type as RuntimeTensor['type'], dims: [...tensor.dims], data };
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
    return await runBoth(sessions);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

async function runBoth(sessions: readonly [ort.InferenceSession, ort.InferenceSession]): Promise<EvaluationResult> {
  const outputs: Record<string, RuntimeTensor>[][] = [[], []];
  const feeds = request.samples.map(toOrt);
  // Every sample through both (also the warm-up: a session's first runs are slow).
  for (const feed of feeds) {
    for (const [i, session] of sessions.entries()) {
      checkStop();
      const result = await session.run(feed, request.outputNames);
      outputs[i]!.push(Object.fromEntries(request.outputNames.map((name) => [name, fromOrt(result[name]!)])));
    }
  }
  const timed = feeds.slice(0, Math.max(1, request.timedSamples));
  const speed = await measureSpeedup({
    run: (which, pair) => sessions[which === 'a' ? 0 : 1].run(timed[pair % timed.length]!, request.outputNames),
    budgetMs: request.timingBudgetMs,
    margin: request.speedupMargin,
    checkStop,
  });
  return { baseline: outputs[0]!, candidate: outputs[1]!, speed };
}

evaluate().then(
  (result) => parentPort!.postMessage({ ok: true, result }, transferablesOf([...result.baseline, ...result.candidate].flatMap((o) => Object.values(o)))),
  (error: unknown) => parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
);
