import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { decodeInferRequest } from './decodeInferRequest.js';

/** Decodes bare OIP inputs (a stored validation sample) with the same checks as an inference request. */
export function decodeInputs(inputs: unknown[], signature: { name: string; inputs: TensorSpec[] }): Record<string, RuntimeTensor> {
  return decodeInferRequest({ inputs }, { ...signature, outputs: [] }).feeds;
}
