import { inferboxError } from '../common/errors.js';
import { ELEMENT_BYTES } from './binaryTensors.js';
import type { ModelSignature } from './decodeInferRequest.js';
import type { OipBody } from './oipCodec.js';

/** The raw body is the input's bytes: errors call them so. */
const RAW_VOCABULARY = { elements: () => 'the body', bytes: () => 'the body' };

const refuse = (model: ModelSignature, reason: string) =>
  inferboxError('IBX_ERR_BINARY_DATA', `the raw form (Inference-Header-Content-Length: 0) cannot be used with model '${model.name}': ${reason}; send a JSON header and give its length in Inference-Header-Content-Length`);

/**
 * The binary tensor extension's raw form, as Triton defines it: `Inference-Header-Content-Length: 0`
 * and the body is the raw bytes of the model's single input, with no JSON header. It becomes the
 * request it stands for, so the one decoder checks it: the input with its shape, where the one
 * dimension of any size comes from the byte count (none: the body must fill the fixed shape), every
 * output asked for as binary. A BYTES input takes it only when it holds one element, the whole body
 * (Triton: shape [1]); its 4-byte length prefix is added here. Anything else is a 400 that says why.
 */
export function rawBinaryBody(model: ModelSignature, body: Buffer): OipBody {
  if (model.inputs.length !== 1) throw refuse(model, `it is for models with one input, and it has ${model.inputs.length}`);
  const input = model.inputs[0]!;
  if (body.length === 0) throw refuse(model, `the body is empty, and it must hold input '${input.name}'`);
  let shape: number[];
  let binary = body;
  if (input.datatype === 'BYTES') {
    if (input.shape.some((dim) => dim !== 1 && dim !== -1)) throw refuse(model, `its BYTES input '${input.name}' has shape ${JSON.stringify(input.shape)}, and the body can only be one element`);
    shape = input.shape.map(() => 1);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    binary = Buffer.concat([length, body]);
  } else {
    const dynamic = input.shape.filter((dim) => dim === -1).length;
    if (dynamic > 1) throw refuse(model, `input '${input.name}' has shape ${JSON.stringify(input.shape)}, and only one dimension of any size can follow from the byte count`);
    const rowBytes = input.shape.reduce((bytes, dim) => (dim === -1 ? bytes : bytes * dim), ELEMENT_BYTES[input.datatype]);
    if (dynamic === 1 && (rowBytes === 0 || body.length % rowBytes !== 0)) {
      throw refuse(model, `the body's ${body.length} bytes are not a whole number of ${input.datatype} slices of shape ${JSON.stringify(input.shape.filter((dim) => dim !== -1))} (${rowBytes} bytes each) for input '${input.name}' ${JSON.stringify(input.shape)}`);
    }
    shape = input.shape.map((dim) => (dim === -1 ? body.length / rowBytes : dim));
  }
  const value = {
    inputs: [{ name: input.name, datatype: input.datatype, shape, parameters: { binary_data_size: binary.length } }],
    parameters: { binary_data_output: true },
  };
  return { value, binary, vocabulary: RAW_VOCABULARY };
}
