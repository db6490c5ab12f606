import './disableOrtTelemetry.js'; // before onnxruntime-node loads: see the file
import * as ort from 'onnxruntime-node';
import type { RuntimeTensor, TensorData } from '../common/datatypes.js';
import { compareSessions, type SessionComparison } from './compareSessions.js';
import { epochMs, type CompareRequest, type LoadResult, type RawTensorMetadata, type RunResult, type SessionSettings } from './workerProtocol.js';

/** The key has no session here (being loaded or unloaded): retryable, not the input's fault. */
export class SessionUnavailable extends Error {}

/** The options every session of the server is created with (worker, HTTP thread, measurement). */
export function sessionOptions(settings: SessionSettings, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: settings.interOpThreads,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // A memory pattern is planned and kept per input shape, and dynamic batching runs many shapes
    // (1 to max_batch_size rows): off, a fresh server under 6 s of ocr-cls binary at 32 concurrent
    // peaked at 354-366 MB instead of 390-418 MB (four runs each), with the same requests/s.
    enableMemPattern: false,
  };
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): RawTensorMetadata[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** Copies into a buffer of its own so it can be transferred (ORT output memory may be shared or external). */
function ownedCopy(data: ort.Tensor['data']): TensorData {
  if (Array.isArray(data)) return data as string[];
  return (data as Exclude<TensorData, string[]>).slice();
}

/**
 * The onnxruntime sessions of one thread, by model key: what a worker thread holds, and what the
 * HTTP thread holds for models whose runs are shorter than a round trip to a worker.
 */
export class OrtSessions {
  private readonly sessions = new Map<string, ort.InferenceSession>();

  /** Tries the planned providers; if a non-CPU provider fails, falls back to CPU and says why. */
  async load(key: string, path: string, settings: SessionSettings): Promise<LoadResult> {
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
    await this.sessions.get(key)?.release();
    this.sessions.set(key, session);
    return {
      inputs: describe(session.inputMetadata),
      outputs: describe(session.outputMetadata),
      provider,
      ...(fallbackReason ? { fallbackReason } : {}),
    };
  }

  async run(key: string, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<RunResult> {
    const session = this.sessions.get(key);
    if (!session) throw new SessionUnavailable(`model ${key} is not loaded in this thread`);
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

  /**
   * Two sessions of one file with different settings (providers), compared here (compareSessions)
   * and released. No fallback: a candidate provider that cannot start is the answer.
   */
  async compare(request: CompareRequest): Promise<SessionComparison> {
    const baseline = await ort.InferenceSession.create(request.path, sessionOptions(request.baseline, request.baseline.executionProviders));
    try {
      const candidate = await ort.InferenceSession.create(request.path, sessionOptions(request.candidate, request.candidate.executionProviders));
      try {
        return await compareSessions([baseline, candidate], request.samples, request.outputNames, request.timing);
      } finally {
        await candidate.release();
      }
    } finally {
      await baseline.release();
    }
  }

  async unload(key: string): Promise<void> {
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    await session?.release();
  }

  async unloadAll(): Promise<void> {
    for (const key of [...this.sessions.keys()]) await this.unload(key);
  }
}
