import { InferboxError } from '../common/errors.js';
import type { ModelRegistry, ServedVersion } from '../registry/ModelRegistry.js';
import type { InferenceWorkerPool } from '../runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../runtime/SessionRunError.js';
import { oipTypeOf } from '../common/datatypes.js';
import { encodeBinaryTensor } from './binaryTensors.js';
import { DynamicBatcher, type BatchedRunResult, type BatchingSettings } from '../batching/DynamicBatcher.js';
import type { ResponseCache } from './ResponseCache.js';
import { decodeInferRequest, type DecodedInferRequest } from './decodeInferRequest.js';
import { encodeOutputTensor, type OutputTensorJson } from './encodeOutputTensor.js';

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** Which precision answered: the original (fp32) or its int8 candidate. */
  parameters: { precision: 'fp32' | 'int8' };
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
  /** Per-stage times in ms, for the request log and Server-Timing; the rows of the run it was part of. */
  timing: { queueMs: number; inferMs: number; batchRows: number };
}

/**
 * The OIP v2 data plane without HTTP (KServe's dataplane): resolve the version, validate and
 * decode the request against its signature, run it in a worker, encode the outputs.
 */
export class InferenceService {
  /** One batcher per served session key (a precision swap gets a fresh one; the old one drains). */
  private readonly batchers = new Map<string, DynamicBatcher>();
  private interactive = 0;

  constructor(private readonly deps: { registry: ModelRegistry; pool: InferenceWorkerPool; batching: () => Omit<BatchingSettings, 'concurrency'>; cache: ResponseCache }) {}

  /** Batching needs every input and output to have a dynamic first dimension to concatenate and split along. */
  private batcherFor(served: ServedVersion): DynamicBatcher | undefined {
    const settings = this.deps.batching();
    const batchable = settings.maxBatchSize > 1 && [...served.inputs, ...served.outputs].every((t) => t.shape[0] === -1);
    if (!batchable) return undefined;
    let batcher = this.batchers.get(served.key);
    if (!batcher) {
      batcher = new DynamicBatcher((feeds, outputNames) => this.deps.pool.run(served.key, feeds, outputNames), { ...settings, concurrency: this.deps.pool.instances });
      this.batchers.set(served.key, batcher);
    }
    return batcher;
  }

  /** Through the version's batcher when it can batch, else straight to a worker; ORT's refusals become 400s. */
  private async run(served: ServedVersion, feeds: DecodedInferRequest['feeds'], outputNames: string[]): Promise<BatchedRunResult> {
    try {
      const batcher = this.batcherFor(served);
      if (batcher) return await batcher.enqueue(feeds, outputNames);
      return { ...(await this.deps.pool.run(served.key, feeds, outputNames)), batchRows: Object.values(feeds)[0]?.dims[0] ?? 1 };
    } catch (error) {
      if (error instanceof SessionRunError) {
        throw new InferboxError('IBX_ERR_INFERENCE_FAILED', [served.name, served.version, error.message], { cause: error });
      }
      throw error;
    }
  }

  /** The version that answers: 404 for an unknown model or version, 503 when it is not ready. */
  resolve(model: string, version: string | undefined): ServedVersion {
    return this.deps.registry.resolve(model, version);
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

  private async answer(served: ServedVersion, body: unknown, binary?: Buffer): Promise<InferOutcome> {
    const request = decodeInferRequest(body, served, binary);
    const cacheKey = served.cacheEnabled ? this.deps.cache.keyOf(served.key, request.feeds, request.outputNames) : undefined;
    const cached = cacheKey ? this.deps.cache.get(cacheKey) : undefined;
    const result = cached ? { outputs: cached, queueMs: 0, inferMs: 0, batchRows: 0 } : await this.run(served, request.feeds, request.outputNames);
    if (cacheKey && !cached) this.deps.cache.set(cacheKey, result.outputs);
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
    return { response, binary: binaryParts, cache, timing: { queueMs: result.queueMs, inferMs: result.inferMs, batchRows: result.batchRows } };
  }
}
