import { InferboxError } from '../common/errors.js';
import type { ModelRegistry, ServedVersion } from '../registry/ModelRegistry.js';
import type { InferenceWorkerPool } from '../runtime/InferenceWorkerPool.js';
import { SessionRunError } from '../runtime/SessionRunError.js';
import { oipTypeOf } from '../common/datatypes.js';
import { encodeBinaryTensor } from './binaryTensors.js';
import { decodeInferRequest } from './decodeInferRequest.js';
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

  async infer(served: ServedVersion, body: unknown, binary?: Buffer): Promise<InferOutcome> {
    const request = decodeInferRequest(body, served, binary);
    let result;
    try {
      result = await this.deps.pool.run(served.key, request.feeds, request.outputNames);
    } catch (error) {
      if (error instanceof SessionRunError) {
        throw new InferboxError('IBX_ERR_INFERENCE_FAILED', [served.name, served.version, error.message], { cause: error });
      }
      throw error;
    }
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
    return { response, binary: binaryParts, timing: { queueMs: result.queueMs, inferMs: result.inferMs } };
  }
}
