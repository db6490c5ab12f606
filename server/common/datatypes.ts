/**
 * OIP v2 tensor datatypes and their onnxruntime counterparts.
 * Spec: KServe Open Inference Protocol v2, "Tensor Data Types".
 * BF16 is part of OIP but onnxruntime-node cannot take it from JavaScript, so it is not listed.
 */
export const OIP_DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** Element type names as onnxruntime-node reports and accepts them. */
export type OrtElementType =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float16' | 'float32' | 'float64' | 'string';

const OIP_TO_ORT: Record<OipDatatype, OrtElementType> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};

const ORT_TO_OIP = Object.fromEntries(Object.entries(OIP_TO_ORT).map(([oip, ort]) => [ort, oip])) as Record<OrtElementType, OipDatatype>;

export function isOipDatatype(value: string): value is OipDatatype {
  return (OIP_DATATYPES as readonly string[]).includes(value);
}

export function ortTypeOf(datatype: OipDatatype): OrtElementType {
  return OIP_TO_ORT[datatype];
}

/** The OIP datatype for an ORT element type, or undefined for types OIP cannot carry. */
export function oipTypeOf(type: string): OipDatatype | undefined {
  return ORT_TO_OIP[type as OrtElementType];
}

/** Tensor data as it crosses the worker boundary: typed arrays move as transferable buffers. */
export type TensorData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array | string[];

/** A tensor in the runtime's terms. FP16 travels as its raw bits in a Uint16Array; BOOL as Uint8Array 0/1. */
export interface RuntimeTensor {
  type: OrtElementType;
  dims: number[];
  data: TensorData;
}

/** Input/output description, with -1 for a dynamic dimension (OIP metadata convention). */
export interface TensorSpec {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** Buffers that can be handed to postMessage's transfer list. */
export function transferablesOf(tensors: Iterable<RuntimeTensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const tensor of tensors) {
    if (!Array.isArray(tensor.data) && tensor.data.buffer instanceof ArrayBuffer) buffers.add(tensor.data.buffer);
  }
  return [...buffers];
}
