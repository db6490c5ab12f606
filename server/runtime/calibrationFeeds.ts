import type { OrtElementType, RuntimeTensor, TensorData } from '../common/datatypes.js';
import type { RawTensorMetadata } from './workerProtocol.js';

const ZEROS: Record<OrtElementType, (n: number) => TensorData> = {
  bool: (n) => new Uint8Array(n),
  uint8: (n) => new Uint8Array(n),
  int8: (n) => new Int8Array(n),
  uint16: (n) => new Uint16Array(n),
  int16: (n) => new Int16Array(n),
  float16: (n) => new Uint16Array(n),
  uint32: (n) => new Uint32Array(n),
  int32: (n) => new Int32Array(n),
  uint64: (n) => new BigUint64Array(n),
  int64: (n) => new BigInt64Array(n),
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  string: (n) => Array.from({ length: n }, () => ''),
};

/**
 * One request's worth of input for timing a model: every dynamic dimension 1, every element zero.
 * Null when an input is not a tensor of a type the server can feed.
 */
export function calibrationFeeds(inputs: readonly RawTensorMetadata[]): Record<string, RuntimeTensor> | null {
  const feeds: Record<string, RuntimeTensor> = {};
  for (const input of inputs) {
    const zeros = ZEROS[input.type as OrtElementType] as ((n: number) => TensorData) | undefined;
    if (!zeros) return null;
    const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    feeds[input.name] = { type: input.type as OrtElementType, dims, data: zeros(dims.reduce((a, b) => a * b, 1)) };
  }
  return feeds;
}
