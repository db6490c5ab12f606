import { performance } from 'node:perf_hooks';
import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { InferboxError } from '../common/errors.js';
import type { Precision, SessionKey } from '../common/SessionKey.js';
import type { InferenceWorkerPool, Placement } from '../runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../runtime/SessionRunError.js';
import type { LoadResult } from '../runtime/workerProtocol.js';
import type { SessionCost } from '../runtime/sessionCost.js';
import { DynamicBatcher, type BatchingSettings } from './DynamicBatcher.js';
import type { ResponseCache } from './ResponseCache.js';

/** What a served version needs from the composition root; the settings are read at every decision. */
export interface ServedVersionDeps {
  pool: InferenceWorkerPool;
  cache: ResponseCache;
  /** The model's batching settings now. */
  batching: (model: string) => BatchingSettings;
  /** Whether the admin turned the response cache on for the model now. */
  cacheEnabled: (model: string) => boolean;
  /** Counts each run with its rows (Triton's execution and inference counts). */
  onExecuted: (model: string, version: string) => (rows: number) => void;
}

/** A decoded request's run, as the pipeline asks for it. */
export interface VersionRun {
  feeds: Record<string, RuntimeTensor>;
  outputNames: string[];
  /** The caller's queue limit, µs (OIP/Triton `timeout` parameter); it can only shorten the model's. */
  timeoutMicros: number | undefined;
}

/** The outputs of one run and where its time went. */
export interface VersionRunResult {
  outputs: Record<string, RuntimeTensor>;
  /** `off`: the cache is not enabled for this model. */
  cache: 'hit' | 'miss' | 'off';
  queueMs: number;
  batchMs: number;
  inferMs: number;
  /** Rows in the run the request was part of (0: answered from the cache). */
  batchRows: number;
  /** Checking the cache (hashing the inputs), counted with decoding. */
  cacheMs: number;
}

/**
 * One version of a model as it serves now, in one precision: it owns its sessions in the worker
 * pool (from `load` to `retire`), its dynamic batcher and its cached answers. The registry
 * creates one when a version loads and retires it when the version unloads, is deleted, or swaps
 * precision; requests hold it (`acquire`/`release`) from resolving to their answer, so a retire
 * waits for them and none fails for it.
 */
export class ServedVersion {
  readonly batcher: DynamicBatcher;
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** When a request last resolved to it (ms since the epoch), for idle unloading; the registry keeps it. */
  lastUsedAt = 0;
  private held = 0;
  private retired: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  private constructor(readonly key: SessionKey, readonly loaded: LoadResult, signature: { inputs: TensorSpec[]; outputs: TensorSpec[] }, private readonly deps: ServedVersionDeps) {
    this.inputs = signature.inputs;
    this.outputs = signature.outputs;
    // Only models whose inputs and outputs all have a dynamic first dimension can be concatenated
    // and split along it; the others still get a batcher (queue limit, timeouts, instance scaling)
    // that runs one request at a time.
    const batchable = [...signature.inputs, ...signature.outputs].every((t) => t.shape[0] === -1);
    const settings = () => {
      const chosen = deps.batching(key.model);
      return batchable ? chosen : { ...chosen, maxBatchSize: 1, preferredBatchSizes: [] };
    };
    this.batcher = new DynamicBatcher((feeds, outputNames) => deps.pool.run(key, feeds, outputNames), settings, {
      capacity: () => deps.pool.capacity(key),
      onBacklog: () => deps.pool.reportBacklog(key),
      onExecuted: deps.onExecuted(key.model, key.version),
    });
  }

  /**
   * Loads the sessions where the model's placement says; the signature comes from the loaded
   * session unless the caller already has it (a stored version); `cost` (the version's measured
   * session) is what the memory budget counts. Nothing is left in the pool if the load fails.
   */
  static async load(
    key: SessionKey,
    path: string,
    placement: () => Placement,
    deps: ServedVersionDeps,
    signatureOf: (loaded: LoadResult) => { inputs: TensorSpec[]; outputs: TensorSpec[] },
    cost?: SessionCost,
  ): Promise<ServedVersion> {
    const loaded = await deps.pool.load(key, path, placement, cost);
    return new ServedVersion(key, loaded, signatureOf(loaded), deps);
  }

  get name(): string {
    return this.key.model;
  }

  get version(): string {
    return this.key.version;
  }

  get precision(): Precision {
    return this.key.precision;
  }

  /** Holds the sessions for one request; false once the version is retiring (resolve again). */
  acquire(): boolean {
    if (this.retired) return false;
    this.held += 1;
    return true;
  }

  release(): void {
    this.held -= 1;
    if (this.held === 0) this.onDrained?.();
  }

  /**
   * The request's run: from the cache when the model has it on and holds the answer, else through
   * the batcher. onnxruntime's refusals of the input become 400s that name the version.
   */
  async run(request: VersionRun): Promise<VersionRunResult> {
    const cacheStarted = performance.now();
    const cacheKey = this.deps.cacheEnabled(this.key.model) ? this.deps.cache.keyOf(this.key, request.feeds, request.outputNames) : undefined;
    const cached = cacheKey === undefined ? undefined : this.deps.cache.get(cacheKey);
    const cacheMs = cacheKey === undefined ? 0 : performance.now() - cacheStarted;
    if (cached) return { outputs: cached, cache: 'hit', queueMs: 0, batchMs: 0, inferMs: 0, batchRows: 0, cacheMs };
    try {
      const result = await this.batcher.enqueue(request.feeds, request.outputNames, { timeoutMicros: request.timeoutMicros });
      if (cacheKey !== undefined) this.deps.cache.set(cacheKey, result.outputs, this.key);
      return { outputs: result.outputs, cache: cacheKey === undefined ? 'off' : 'miss', queueMs: result.queueMs, batchMs: result.batchMs, inferMs: result.inferMs, batchRows: result.batchRows, cacheMs };
    } catch (error) {
      if (error instanceof SessionRunError) throw new InferboxError('IBX_ERR_INFERENCE_FAILED', [this.key.model, this.key.version, error.message], { cause: error });
      throw error;
    }
  }

  /**
   * Takes no new requests, lets those that hold it finish, then unloads its sessions and drops its
   * cached answers. Idempotent: every caller gets the same promise.
   */
  retire(): Promise<void> {
    this.retired ??= (async () => {
      if (this.held > 0) await new Promise<void>((resolve) => { this.onDrained = resolve; });
      await this.deps.pool.unload(this.key);
      this.deps.cache.evict(this.key);
    })();
    return this.retired;
  }
}
