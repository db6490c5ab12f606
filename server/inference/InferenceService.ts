import { InferboxError, inferboxError } from '../common/errors.js';
import type { ModelRegistry } from '../registry/ModelRegistry.js';
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

  async infer(model: string, version: string | undefined, body: unknown): Promise<InferOutcome> {
    const served = this.deps.registry.resolve(model, version);
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
      if (!tensor) throw inferboxError('IBX_ERR_INTERNAL');
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
