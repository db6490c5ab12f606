/**
 * Inference worker: owns onnxruntime sessions and runs them off the HTTP thread.
 * onnxruntime-node's session.run is synchronous on the calling thread (DESIGN.md), so each
 * worker runs one inference at a time and the pool spreads requests across workers.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { transferablesOf, type RuntimeTensor, type TensorData } from '../common/datatypes.js';
import { epochMs, type LoadResult, type RawTensorMetadata, type RunResult, type SessionSettings, type WorkerReply, type WorkerRequest } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('sessionWorker must run in a worker thread');

const sessions = new Map<string, ort.InferenceSession>();

class SessionUnavailable extends Error {}

function sessionOptions(settings: SessionSettings, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: settings.interOpThreads,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): RawTensorMetadata[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** Tries the planned providers; if a non-CPU provider fails, falls back to CPU and says why. */
async function load(key: string, path: string, settings: SessionSettings): Promise<LoadResult> {
  const preferred = settings.executionProviders;
  let session: ort.InferenceSession;
  let provider = preferred[0] ?? 'cpu';
  let fallbackReason: string | undefined;
  try {
    session = await ort.InferenceSession.create(path, sessionOptions(settings, preferred));
  } catch (error) {
    if (provider === 'cpu') throw error;
    fallbackReason = `${provider} failed: ${error instanceof Error ? error.message : String(error)}`;
    provider = 'cpu';
    session = await ort.InferenceSession.create(path, sessionOptions(settings, ['cpu']));
  }
  await sessions.get(key)?.release();
  sessions.set(key, session);
  return {
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
    provider,
    ...(fallbackReason ? { fallbackReason } : {}),
  };
}

/** Copies into a buffer of its own so it can be transferred (ORT output memory may be shared or external). */
function ownedCopy(data: ort.Tensor['data']): TensorData {
  if (Array.isArray(data)) return data as string[];
  return (data as Exclude<TensorData, string[]>).slice();
}

async function run(key: string, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<RunResult> {
  const session = sessions.get(key);
  if (!session) throw new SessionUnavailable(`model ${key} is not loaded in this worker`);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    ortFeeds[name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
  }
  const startedAt = epochMs();
  const results = await session.run(ortFeeds, outputNames);
  const inferMs = epochMs() - startedAt;
  const outputs: Record<string, RuntimeTensor> = {};
  for (const name of outputNames) {
    const tensor = results[name];
    if (!tensor) throw new Error(`the model produced no output '${name}'`);
    outputs[name] = { type: tensor.type as RuntimeTensor['type'], dims: [...tensor.dims], data: ownedCopy(tensor.data) };
    tensor.dispose();
  }
  return { outputs, startedAt, inferMs };
}

/** Each reply with the buffers it hands over (run outputs move, they are not cloned). */
async function handle(request: WorkerRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'load':
      return { result: await load(request.key, request.path, request.settings), transfer: [] };
    case 'run': {
      const result = await run(request.key, request.feeds, request.outputNames);
      return { result, transfer: transferablesOf(Object.values(result.outputs)) };
    }
    case 'unload': {
      await sessions.get(request.key)?.release();
      sessions.delete(request.key);
      return { result: null, transfer: [] };
    }
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    ({ result, transfer }) => port.postMessage({ id: request.id, ok: true, result } satisfies WorkerReply, transfer),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        unavailable: error instanceof SessionUnavailable,
      } satisfies WorkerReply),
  );
});
