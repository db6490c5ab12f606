import { InferboxError } from '../common/errors.js';
import type { ModelRegistry, ServedVersion } from '../registry/ModelRegistry.js';
import type { InferenceWorkerPool } from '../runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../runtime/SessionRunError.js';
import { decodeInferRequest } from './decodeInferRequest.js';
import { encodeOutputTensor, type OutputTensorJson } from './encodeOutputTensor.js';

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** Which precision answered: the original (fp32) or its int8 candidate. */
  parameters: { precision: 'fp32' | 'int8' };
  outputs: OutputTensorJson[];
}

export interface InferOutcome {
  response: InferResponse;
  /** Per-stage times in ms, for the request log and Server-Timing. */
  timing: { queueMs: number; inferMs: number };
}

/**
 * The OIP v2 data plane without HTTP (KServe's dataplane): resolve the version, validate and
 * decode the request against its signature, run it in a worker, encode the outputs.
 */
export class InferenceService {
  constructor(private readonly deps: { registry: ModelRegistry; pool: InferenceWorkerPool }) {}

  /** The version that answers: 404 for an unknown model or version, 503 when it is not ready. */
  resolve(model: string, version: string | undefined): ServedVersion {
    return this.deps.registry.resolve(model, version);
  }

  async infer(served: ServedVersion, body: unknown): Promise<InferOutcome> {
    const request = decodeInferRequest(body, served);
    let result;
    try {
      result = await this.deps.pool.run(served.key, request.feeds, request.outputNames);
    } catch (error) {
      if (error instanceof SessionRunError) {
        throw new InferboxError('IBX_ERR_INFERENCE_FAILED', [served.name, served.version, error.message], { cause: error });
      }
      throw error;
    }
    const outputs = request.outputNames.map((name) => {
      const tensor = result.outputs[name];
      // A bug (the worker answers every name it was asked for), not bad input: a logged 500.
      if (!tensor) throw new Error(`the worker returned no output '${name}'`);
      return encodeOutputTensor(name, tensor);
    });
    const response: InferResponse = {
      model_name: served.name,
      model_version: served.version,
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { precision: served.precision },
      outputs,
    };
    return { response, timing: { queueMs: result.queueMs, inferMs: result.inferMs } };
  }
}
