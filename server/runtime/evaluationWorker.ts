/**
 * Runs two models side by side on the same inputs with the same settings, for the int8 accuracy
 * gate: each sample through both (outputs kept), then timed runs interleaved A, B, A, B so that
 * machine noise hits both alike. A dedicated thread: it never competes with the serving workers'
 * queues, and the HTTP thread never runs a session.
 */
import { parentPort, workerData } from 'node:worker_threads';
import './disableOrtTelemetry.js'; // before onnxruntime-node loads: see the file
import * as ort from 'onnxruntime-node';
import { transferablesOf, type RuntimeTensor } from '../common/datatypes.js';
import type { EvaluationRequest, EvaluationResult, ModelRuns } from './compareModels.js';

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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function evaluate(): Promise<EvaluationResult> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: request.executionProviders,
    intraOpNumThreads: request.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const sessions = [await ort.InferenceSession.create(request.baselinePath, options), await ort.InferenceSession.create(request.candidatePath, options)];
  try {
    return await runBoth(sessions);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

async function runBoth(sessions: ort.InferenceSession[]): Promise<EvaluationResult> {
  const runs: ModelRuns[] = sessions.map(() => ({ outputs: [], medianMs: 0 }));
  const feeds = request.samples.map(toOrt);
  for (const feed of feeds) {
    for (const [i, session] of sessions.entries()) {
      checkStop();
      const result = await session.run(feed, request.outputNames);
      runs[i]!.outputs.push(Object.fromEntries(request.outputNames.map((name) => [name, fromOrt(result[name]!)])));
    }
  }
  const times: number[][] = sessions.map(() => []);
  const timed = feeds.slice(0, request.timedSamples);
  for (let repeat = 0; repeat < request.timingRepeats; repeat++) {
    for (const feed of timed) {
      for (const [i, session] of sessions.entries()) {
        checkStop();
        const started = performance.now();
        await session.run(feed, request.outputNames);
        times[i]!.push(performance.now() - started);
      }
    }
  }
  runs.forEach((run, i) => { run.medianMs = median(times[i]!); });
  return { baseline: runs[0]!, candidate: runs[1]! };
}

evaluate().then(
  (result) => parentPort!.postMessage({ ok: true, result }, transferablesOf([...result.baseline.outputs, ...result.candidate.outputs].flatMap((o) => Object.values(o)))),
  (error: unknown) => parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
);
