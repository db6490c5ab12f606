import type { TimingSpec } from './compareSessions.js';
import type { RuntimeTensor } from '../common/datatypes.js';

/** How a session is built; the same for every instance of a model (from the hardware plan). */
export interface SessionSettings {
  /** ORT execution providers in order of preference; 'cpu' last as the fallback. */
  executionProviders: string[];
  intraOpThreads: number;
  interOpThreads: number;
}

/** Input/output metadata as ORT reports it: symbolic dims are strings, unknown dims -1. */
export interface RawTensorMetadata {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface LoadResult {
  inputs: RawTensorMetadata[];
  outputs: RawTensorMetadata[];
  /** The provider that really runs the session. */
  provider: string;
  /** Why a preferred provider was not used, when it failed and CPU took over. */
  fallbackReason?: string;
}

export interface RunResult {
  outputs: Record<string, RuntimeTensor>;
  /** Wall-clock ms (epoch based, comparable across threads) when the worker started the run. */
  startedAt: number;
  inferMs: number;
}

/** Two sessions of one file, each with its own settings (providers), compared (compareSessions) in a child process. */
export interface CompareRequest {
  path: string;
  baseline: SessionSettings;
  candidate: SessionSettings;
  samples: Record<string, RuntimeTensor>[];
  outputNames: string[];
  timing: TimingSpec;
}

export type WorkerRequest =
  | { kind: 'load'; id: number; key: string; path: string; settings: SessionSettings }
  | { kind: 'run'; id: number; key: string; feeds: Record<string, RuntimeTensor>; outputNames: string[] }
  | { kind: 'unload'; id: number; key: string };

/**
 * Asks a worker to end itself: it releases its sessions and closes its port, so the thread ends
 * between native calls. Ending it from outside (worker.terminate()) while onnxruntime is inside a
 * load, run or release aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'": the call returns into a thread that is being torn down).
 */
export interface WorkerCloseRequest {
  kind: 'close';
}

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  /** `unavailable`: the worker has no session for the key (being loaded or unloaded): retryable, not the input's fault. */
  | { id: number; ok: false; error: string; unavailable?: boolean };

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
