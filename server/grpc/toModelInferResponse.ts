import type { OipAnswer } from '../serving/oipCodec.js';
import type { InferParameter, InferParameters, ModelInferResponse } from './inferenceMessages.js';

/** A JSON parameter value as an InferParameter (strings, booleans and numbers are all the response carries). */
function parameterOf(value: unknown): InferParameter {
  if (typeof value === 'boolean') return { bool_param: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int64_param: value } : { double_param: value };
  return { string_param: String(value) };
}

/**
 * The data plane's answer as a ModelInferResponse: every output's bytes in `raw_output_contents`,
 * in the order of `outputs` (toOipBody asked for all of them as binary); the response's
 * parameters (precision, and experiment, variant and request_id when an experiment routed it) as
 * InferParameters.
 */
export function toModelInferResponse(answer: OipAnswer): ModelInferResponse {
  const { response } = answer;
  const parameters: InferParameters = {};
  for (const [name, value] of Object.entries(response.parameters)) if (value !== undefined) parameters[name] = parameterOf(value);
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id ?? '',
    parameters,
    outputs: response.outputs.map((output) => ({ name: output.name, datatype: output.datatype, shape: output.shape, parameters: {} })),
    raw_output_contents: answer.binary,
  };
}
