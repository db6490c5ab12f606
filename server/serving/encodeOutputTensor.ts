import { getFloat16 } from '@petamoriken/float16';
import { oipTypeOf, type RuntimeTensor } from '../common/datatypes.js';

export interface OutputTensorJson {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/**
 * Runtime tensor → OIP JSON output. 64-bit integers become JSON numbers, exact up to 2^53
 * (as Triton's JSON does); BOOL becomes true/false; FP16 is widened to a number.
 */
export function encodeOutputTensor(name: string, tensor: RuntimeTensor): OutputTensorJson {
  // The registry refuses models whose outputs OIP cannot carry, so every output type maps.
  return { name, datatype: oipTypeOf(tensor.type)!, shape: tensor.dims, data: jsonValues(tensor) };
}

function jsonValues(tensor: RuntimeTensor): unknown[] {
  const { data } = tensor;
  if (Array.isArray(data)) return data;
  if (tensor.type === 'bool') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (tensor.type === 'float16') {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return Array.from({ length: data.length }, (_, i) => getFloat16(view, i * 2, true));
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as ArrayLike<number>);
}
