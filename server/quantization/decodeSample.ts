import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { inferboxError } from '../common/errors.js';

/** Decodes a validation sample (OIP v2 request inputs) against a signature; injected from the inference module. */
export type DecodeInputs = (inputs: unknown[], signature: { name: string; inputs: TensorSpec[] }) => Record<string, RuntimeTensor>;

/** Wraps the OIP decoder so sample errors say which sample is wrong. */
export function decodeSamples(samples: { id: number; inputs: unknown[] }[], signature: { name: string; inputs: TensorSpec[] }, decode: DecodeInputs): Record<string, RuntimeTensor>[] {
  return samples.map((sample) => {
    try {
      return decode(sample.inputs, signature);
    } catch (error) {
      throw inferboxError('IBX_ERR_INVALID_REQUEST', `validation sample ${sample.id} does not fit the model: ${(error as Error).message}`);
    }
  });
}
