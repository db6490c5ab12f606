import { inferboxError } from '../common/errors.js';
import { parseRequest } from '../common/parseRequest.js';
import { isOipDatatype, OIP_DATATYPES, type RuntimeTensor, type TensorSpec } from '../common/datatypes.js';
import { decodeBinaryTensor } from './binaryTensors.js';
import { decodeInputTensor } from './decodeInputTensor.js';
import { inferRequestSchema, type InferRequest } from './oipSchemas.js';

export interface ModelSignature {
  name: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface DecodedInferRequest {
  id: string | undefined;
  feeds: Record<string, RuntimeTensor>;
  /** The outputs to return, in the order the caller asked for (all outputs when not given). */
  outputNames: string[];
  /** Outputs to send as binary data after the JSON header (binary extension). */
  binaryOutputs: Set<string>;
  /** The longest the caller lets the request wait in the queue, µs (Triton's `timeout` parameter). */
  timeoutMicros: number | undefined;
}

/**
 * What errors call an input's data when the request did not come as REST's JSON (whose names,
 * `data` and `binary_data_size`, are the default): gRPC says `contents.<field>` and
 * `raw_input_contents[i]`. Called only to word an error.
 */
export interface DataVocabulary {
  /** Input `index`'s typed elements. */
  elements(index: number, datatype: string): string;
  /** Input `index`'s raw bytes. */
  bytes(index: number): string;
}

const names = (specs: TensorSpec[]) => JSON.stringify(specs.map((s) => s.name));

/** A shape fits when the rank is equal and every fixed model dimension (not -1) matches. */
function shapeFits(shape: number[], modelShape: number[]): boolean {
  return shape.length === modelShape.length && modelShape.every((dim, i) => dim === -1 || dim === shape[i]);
}

/**
 * Validates a parsed JSON body against the model's signature and decodes it into runtime
 * tensors. Every error names the input (or output) it is about; nothing is kept on failure.
 */
export function decodeInferRequest(body: unknown, model: ModelSignature, binary: Buffer = Buffer.alloc(0), vocabulary?: DataVocabulary): DecodedInferRequest {
  const request: InferRequest = parseRequest(inferRequestSchema, body);

  // No prototype: an input may be called 'constructor' or '__proto__'.
  const feeds: Record<string, RuntimeTensor> = Object.create(null) as Record<string, RuntimeTensor>;
  let binaryOffset = 0;
  for (let index = 0; index < request.inputs.length; index++) {
    const input = request.inputs[index]!;
    const spec = model.inputs.find((s) => s.name === input.name);
    if (!spec) throw inferboxError('IBX_ERR_UNKNOWN_INPUT', input.name, model.name, names(model.inputs));
    if (Object.hasOwn(feeds, input.name)) throw inferboxError('IBX_ERR_DUPLICATE_INPUT', input.name);
    if (!isOipDatatype(input.datatype)) {
      throw inferboxError('IBX_ERR_UNSUPPORTED_DATATYPE', input.name, input.datatype, OIP_DATATYPES.join(', '));
    }
    if (input.datatype !== spec.datatype) {
      throw inferboxError('IBX_ERR_DATATYPE_MISMATCH', input.name, input.datatype, spec.datatype);
    }
    if (!shapeFits(input.shape, spec.shape)) {
      throw inferboxError('IBX_ERR_SHAPE_MISMATCH', input.name, JSON.stringify(input.shape), JSON.stringify(spec.shape));
    }
    const binarySize = input.parameters?.binary_data_size;
    if (binarySize === undefined) {
      feeds[input.name] = decodeInputTensor(input.name, input.datatype, input.shape, input.data!, vocabulary?.elements(index, input.datatype));
    } else {
      if (binaryOffset + binarySize > binary.length) {
        throw inferboxError('IBX_ERR_BINARY_DATA', `input '${input.name}': binary_data_size ${binarySize} runs past the ${binary.length} bytes after the JSON header`);
      }
      feeds[input.name] = decodeBinaryTensor(input.name, input.datatype, input.shape, binary.subarray(binaryOffset, binaryOffset + binarySize), vocabulary?.bytes(index));
      binaryOffset += binarySize;
    }
  }
  if (binaryOffset !== binary.length) {
    throw inferboxError('IBX_ERR_BINARY_DATA', `${binary.length - binaryOffset} bytes after the JSON header belong to no input's binary_data_size`);
  }
  for (const spec of model.inputs) {
    if (!Object.hasOwn(feeds, spec.name)) throw inferboxError('IBX_ERR_MISSING_INPUT', spec.name, model.name);
  }

  const outputNames = request.outputs?.map((o) => o.name) ?? model.outputs.map((o) => o.name);
  for (const name of outputNames) {
    if (!model.outputs.some((o) => o.name === name)) {
      throw inferboxError('IBX_ERR_UNKNOWN_OUTPUT', name, model.name, names(model.outputs));
    }
  }
  const allBinary = request.parameters?.binary_data_output === true;
  const binaryOutputs = new Set(
    outputNames.filter((name) => request.outputs?.find((o) => o.name === name)?.parameters?.binary_data ?? allBinary),
  );
  return { id: request.id, feeds, outputNames: [...new Set(outputNames)], binaryOutputs, timeoutMicros: request.parameters?.timeout };
}
