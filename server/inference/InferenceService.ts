import { performance } from 'node:perf_hooks';
import { InferboxError, inferboxError } from '../common/errors.js';
import type { StageTiming } from '../common/StageTiming.js';
import type { ModelRegistry, ServedVersion } from '../registry/ModelRegistry.js';
import type { InferenceWorkerPool } from '../runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../runtime/SessionRunError.js';
import { oipTypeOf } from '../common/datatypes.js';
import { encodeBinaryTensor } from './binaryTensors.js';
import { DynamicBatcher, type BatchedRunResult, type BatchingSettings } from '../batching/DynamicBatcher.js';
import type { ResponseCache } from './ResponseCache.js';
import type { InferenceMetrics } from '../metrics/InferenceMetrics.js';
import { decodeInferRequest, type DecodedInferRequest } from './decodeInferRequest.js';
import { encodeOutputTensor, type OutputTensorJson } from './encodeOutputTensor.js';

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** Which precision answered: the original (fp32) or its int8 candidate. */
  parameters: { precision: 'fp32' | 'int8'; experiment?: string; variant?: string; request_id?: string };
  outputs: (OutputTensorJson | BinaryOutputJson)[];
}

/** An output whose data follows the JSON header as raw bytes (binary tensor extension). */
export interface BinaryOutputJson {
  name: string;
  datatype: string;
  shape: number[];
  parameters: { binary_data_size: number };
}

export interface InferOutcome {
  response: InferResponse;
  /** Binary-extension outputs, in the order of `response.outputs` that carry `binary_data_size`. */
  binary: Buffer[];
  /** Whether the response cache answered (`off`: not enabled for this model). */
  cache: 'hit' | 'miss' | 'off';
  timing: StageTiming;
}


/**
 * The OIP v2 data plane without HTTP (KServe's dataplane): resolve the version, validate and
 * decode the request against its signature, queue it for its model's batcher, encode the outputs.
 */
export class InferenceService {
  /** One batcher per served session key (a precision swap gets a fresh one; the old one drains). */
  private readonly batchers = new Map<string, { served: ServedVersion; batcher: DynamicBatcher }>();
  private interactive = 0;

  constructor(private readonly deps: { registry: ModelRegistry; pool: InferenceWorkerPool; batching: (model: string) => BatchingSettings; cache: ResponseCache; metrics: Pick<InferenceMetrics, 'executionCounter'> }) {}

  /**
   * Every version has a batcher, so the queue limit, timeouts and instance scaling apply to all;
   * only models whose inputs and outputs all have a dynamic first dimension can be concatenated
   * and split along it, the others run one request at a time.
   */
  private batcherFor(served: ServedVersion): DynamicBatcher {
    let batcher = this.batchers.get(served.key)?.batcher;
    if (!batcher) {
      const batchable = [...served.inputs, ...served.outputs].every((t) => t.shape[0] === -1);
      const settings = () => {
        const chosen = this.deps.batching(served.name);
        return batchable ? chosen : { ...chosen, maxBatchSize: 1, preferredBatchSizes: [] };
      };
      batcher = new DynamicBatcher((feeds, outputNames) => this.deps.pool.run(served.key, feeds, outputNames), settings, {
        capacity: () => this.deps.pool.capacity(served.key),
        onBacklog: () => this.deps.pool.reportBacklog(served.key),
        onExecuted: this.deps.metrics.executionCounter(served.name, served.version),
      });
      this.batchers.set(served.key, { served, batcher });
    }
    return batcher;
  }

  /**
   * Requests waiting per model version, summed over its batchers (an int8 swap leaves the old
   * precision's batcher draining beside the new one); versions with an empty queue are left out.
   */
  queueDepths(): { model: string; version: string; depth: number }[] {
    const depths = new Map<string, { model: string; version: string; depth: number }>();
    for (const { served, batcher } of this.batchers.values()) {
      if (batcher.queued === 0) continue;
      const id = `${served.name}\u0000${served.version}`;
      const entry = depths.get(id) ?? { model: served.name, version: served.version, depth: 0 };
      entry.depth += batcher.queued;
      depths.set(id, entry);
    }
    return [...depths.values()];
  }

  /** Queues the request for its version's batcher; ORT's refusals become 400s. */
  private async run(served: ServedVersion, request: DecodedInferRequest): Promise<BatchedRunResult> {
    try {
      return await this.batcherFor(served).enqueue(request.feeds, request.outputNames, { timeoutMicros: request.timeoutMicros });
    } catch (error) {
      if (error instanceof SessionRunError) {
        throw new InferboxError('IBX_ERR_INFERENCE_FAILED', [served.name, served.version, error.message], { cause: error });
      }
      throw error;
    }
  }

  /**
   * The version that answers: 404 for an unknown model or version, 503 when it is not ready; one
   * unloaded for idleness loads again first.
   */
  resolve(model: string, version: string | undefined): Promise<ServedVersion> {
    return this.deps.registry.resolveServing(model, version);
  }

  /**
   * Interactive requests (the infer route) are counted while they are answered, so background
   * work (async jobs, `priority: 'background'`) can give way to them.
   */
  async infer(served: ServedVersion, body: unknown, binary?: Buffer, priority: 'interactive' | 'background' = 'interactive'): Promise<InferOutcome> {
    if (priority === 'background') return this.answer(served, body, binary);
    this.interactive += 1;
    try {
      return await this.answer(served, body, binary);
    } finally {
      this.interactive -= 1;
    }
  }

  /** Interactive inference requests being answered now (decoding, queued, running or encoding). */
  get interactiveInFlight(): number {
    return this.interactive;
  }

  /**
   * Leases the served version's sessions for the whole request, so a precision swap or an unload
   * that starts while it waits in the queue lets it finish; if one began between resolving and
   * here, the version is resolved again (the new precision answers, or a clear 503).
   */
  private async answer(resolved: ServedVersion, body: unknown, binary?: Buffer): Promise<InferOutcome> {
    let served = resolved;
    if (!this.deps.pool.lease(served.key)) {
      served = this.deps.registry.resolve(served.name, served.version);
      if (!this.deps.pool.lease(served.key)) throw inferboxError('IBX_ERR_SESSION_UNAVAILABLE');
    }
    try {
      return await this.answerLeased(served, body, binary);
    } finally {
      this.deps.pool.release(served.key);
    }
  }

  private async answerLeased(served: ServedVersion, body: unknown, binary?: Buffer): Promise<InferOutcome> {
    const decodeStarted = performance.now();
    const request = decodeInferRequest(body, served, binary);
    const cacheKey = served.cacheEnabled ? this.deps.cache.keyOf(served.key, request.feeds, request.outputNames) : undefined;
    const cached = cacheKey ? this.deps.cache.get(cacheKey) : undefined;
    const decodeMs = performance.now() - decodeStarted;
    const result = cached ? { outputs: cached, queueMs: 0, inferMs: 0, batchMs: 0, batchRows: 0 } : await this.run(served, request);
    if (cacheKey && !cached) this.deps.cache.set(cacheKey, result.outputs);
    const serializeStarted = performance.now();
    const binaryParts: Buffer[] = [];
    const outputs = request.outputNames.map((name): OutputTensorJson | BinaryOutputJson => {
      const tensor = result.outputs[name];
      // A bug (the worker answers every name it was asked for), not bad input: a logged 500.
      if (!tensor) throw new Error(`the worker returned no output '${name}'`);
      if (!request.binaryOutputs.has(name)) return encodeOutputTensor(name, tensor);
      const bytes = encodeBinaryTensor(tensor);
      binaryParts.push(bytes);
      return { name, datatype: oipTypeOf(tensor.type)!, shape: tensor.dims, parameters: { binary_data_size: bytes.length } };
    });
    const response: InferResponse = {
      model_name: served.name,
      model_version: served.version,
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { precision: served.precision },
      outputs,
    };
    const cache = cacheKey ? (cached ? 'hit' : 'miss') : 'off';
    const serializeMs = performance.now() - serializeStarted;
    const { queueMs, batchMs, inferMs, batchRows } = result;
    return { response, binary: binaryParts, cache, timing: { decodeMs, queueMs, batchMs, inferMs, serializeMs, batchRows } };
  }
}
