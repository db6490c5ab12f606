import { inferboxError } from '../common/errors.js';
import type { DataVocabulary } from '../serving/decodeInferRequest.js';
import type { OipBody } from '../serving/oipCodec.js';
import type { InferParameters, InferTensorContents, InferInputTensor, Int64, ModelInferRequest } from './inferenceMessages.js';

/** Which InferTensorContents field holds each datatype's elements (OIP gRPC spec); FP16 and BF16 have none: raw only. */
const CONTENTS_FIELD: Record<string, keyof InferTensorContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const CONTENTS_FIELDS = [...new Set(Object.values(CONTENTS_FIELD))];

/** REST's binary-extension parameters mean nothing over gRPC; the conversion below sets its own. */
const REST_ONLY = new Set(['binary_data_size', 'binary_data', 'binary_data_output']);

/** 64-bit integers arrive as decimal strings: numbers where exact (a `timeout` in µs), else the string (refused where a number is needed). */
function int64Value(value: Int64): number | string {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : String(value);
}

/** InferParameter map → OIP JSON parameters. */
export function parametersOf(parameters: InferParameters): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameter_choice;
    if (choice === undefined || REST_ONLY.has(name)) continue;
    const value = parameter[choice]!;
    out[name] = choice === 'int64_param' || choice === 'uint64_param' ? int64Value(value as Int64) : value;
  }
  return out;
}

const filled = (contents: InferTensorContents | null) => contents !== null && CONTENTS_FIELDS.some((field) => contents[field].length > 0);

/** An input's typed contents as OIP JSON `data`; BYTES elements are read as UTF-8, as the REST paths do. */
function dataOf(input: InferInputTensor): unknown[] {
  const field = CONTENTS_FIELD[input.datatype];
  if (field === undefined) {
    if (input.datatype === 'FP16' || input.datatype === 'BF16') {
      throw inferboxError('IBX_ERR_INVALID_REQUEST', `input '${input.name}': ${input.datatype} data can only be sent in raw_input_contents (InferTensorContents has no field for it)`);
    }
    return []; // an unknown datatype: decoding names the supported ones
  }
  const contents = input.contents;
  if (contents === null) return [];
  const misplaced = CONTENTS_FIELDS.filter((other) => other !== field && contents[other].length > 0);
  if (misplaced.length > 0) throw inferboxError('IBX_ERR_INVALID_REQUEST', `input '${input.name}': ${input.datatype} data goes in contents.${field}, not in ${misplaced.join(', ')}`);
  if (field === 'bytes_contents') return contents.bytes_contents.map((bytes) => bytes.toString('utf8'));
  if (field === 'int64_contents' || field === 'uint64_contents') return contents[field].map(String); // full 64-bit range, as REST's decimal strings
  return contents[field];
}

/** gRPC's names for an input's data, so that decoding errors speak of the fields the caller filled. */
const GRPC_VOCABULARY: DataVocabulary = {
  elements: (_, datatype) => `contents.${CONTENTS_FIELD[datatype] ?? 'contents'}`,
  bytes: (index) => `raw_input_contents[${index}]`,
};

/**
 * A ModelInferRequest as the OIP JSON body the data plane decodes (REST's binary extension: each
 * raw input's bytes follow in order, named by `binary_data_size`), so both protocols share one
 * decoder with the same checks and errors. Every output is asked for as binary: it goes back in
 * `raw_output_contents`.
 */
export function toOipBody(request: ModelInferRequest): OipBody {
  const raw = request.raw_input_contents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw inferboxError('IBX_ERR_INVALID_REQUEST', `raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs: give one per input, in the order of inputs`);
  }
  const inputs = request.inputs.map((input, i) => {
    const base = { name: input.name, datatype: input.datatype, shape: input.shape.map(Number) };
    if (raw.length === 0) return { ...base, parameters: parametersOf(input.parameters), data: dataOf(input) };
    if (filled(input.contents)) throw inferboxError('IBX_ERR_INVALID_REQUEST', `input '${input.name}' has contents while raw_input_contents is used: give every input's data in one of them`);
    return { ...base, parameters: { ...parametersOf(input.parameters), binary_data_size: raw[i]!.length } };
  });
  const outputs = request.outputs.map((output) => ({ name: output.name, parameters: { ...parametersOf(output.parameters), binary_data: true } }));
  const value = {
    ...(request.id !== '' ? { id: request.id } : {}),
    parameters: { ...parametersOf(request.parameters), binary_data_output: true },
    inputs,
    ...(outputs.length > 0 ? { outputs } : {}),
  };
  return { value, binary: raw.length === 1 ? raw[0]! : Buffer.concat(raw), vocabulary: GRPC_VOCABULARY };
}
