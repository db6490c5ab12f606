import { oipTypeOf, type RuntimeTensor } from '../common/datatypes.js';
import { inferboxError } from '../common/errors.js';
import { encodeBinaryTensor } from './binaryTensors.js';
import { decodeInferRequest, type DataVocabulary, type DecodedInferRequest } from './decodeInferRequest.js';
import { encodeOutputTensor, type OutputTensorJson } from './encodeOutputTensor.js';
import type { ServedVersion } from './ServedVersion.js';

/** An OIP v2 infer request: the JSON value, with binary tensor data after it when any (REST's binary extension; gRPC's raw contents). */
export interface OipBody {
  value: unknown;
  binary: Buffer;
  /** What errors call the inputs' data, when not REST's JSON names (gRPC's message fields). */
  vocabulary?: DataVocabulary;
}

/** An OIP v2 infer response (`$inference_response`). */
export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** Which precision answered; with an experiment, its id, the variant and the request id (what POST /api/feedback names). */
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

/** The response, and the raw bytes of the outputs asked for as binary, in the order of `response.outputs`. */
export interface OipAnswer {
  response: InferResponse;
  binary: Buffer[];
}

/** An experiment's choice, as a response names it. */
export interface NamedVariant {
  experimentId: string;
  variant: string;
}

/**
 * Validates and decodes an OIP request against the version's signature. An all-JSON request keeps
 * its inputs as given (`jsonInputs`): live validation samples are replayed from JSON later.
 */
export function decodeOipRequest(served: ServedVersion, body: OipBody): DecodedInferRequest & { jsonInputs: (() => unknown[]) | undefined } {
  const decoded = decodeInferRequest(body.value, served, body.binary, body.vocabulary);
  return { ...decoded, jsonInputs: body.binary.length === 0 ? () => (body.value as { inputs: unknown[] }).inputs : undefined };
}

/**
 * The outputs as an OIP response: JSON data, or raw bytes for outputs asked for as binary. An
 * experiment's choice is named in `parameters` with the request id, and the request id is the
 * response id when the caller gave none (the same over REST and gRPC).
 */
export function encodeOipResponse(
  served: ServedVersion,
  request: Pick<DecodedInferRequest, 'id' | 'outputNames' | 'binaryOutputs'>,
  outputs: Record<string, RuntimeTensor>,
  experiment: { variant: NamedVariant; requestId: string } | null,
): OipAnswer {
  const binary: Buffer[] = [];
  const encoded = request.outputNames.map((name): OutputTensorJson | BinaryOutputJson => {
    const tensor = outputs[name];
    // A bug (the worker answers every name it was asked for), not bad input: a logged 500.
    if (!tensor) throw new Error(`the worker returned no output '${name}'`);
    if (!request.binaryOutputs.has(name)) return encodeOutputTensor(name, tensor);
    const bytes = encodeBinaryTensor(tensor);
    binary.push(bytes);
    return { name, datatype: oipTypeOf(tensor.type)!, shape: tensor.dims, parameters: { binary_data_size: bytes.length } };
  });
  const id = request.id ?? experiment?.requestId;
  const response: InferResponse = {
    model_name: served.name,
    model_version: served.version,
    ...(id !== undefined ? { id } : {}),
    parameters: experiment
      ? { precision: served.precision, experiment: experiment.variant.experimentId, variant: experiment.variant.variant, request_id: experiment.requestId }
      : { precision: served.precision },
    outputs: encoded,
  };
  return { response, binary };
}

const NO_BINARY = Buffer.alloc(0);

/**
 * An async job's item: OIP JSON in and out, through the same version, batcher and workers as
 * interactive requests (the job, not each item, is what the request log records).
 */
export async function answerOip(served: ServedVersion, body: unknown): Promise<InferResponse> {
  if (!served.acquire()) throw inferboxError('IBX_ERR_SESSION_UNAVAILABLE');
  try {
    const request = decodeOipRequest(served, { value: body, binary: NO_BINARY });
    const result = await served.run(request);
    return encodeOipResponse(served, request, result.outputs, null).response;
  } finally {
    served.release();
  }
}

/** The OIP request's `parameters`, which targeting rules may read (`param.<name>`). */
export function requestParameters(body: unknown): Record<string, unknown> {
  const parameters = (body as { parameters?: unknown } | null)?.parameters;
  return typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {};
}
