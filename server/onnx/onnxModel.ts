import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { inferboxError, messageOf } from '../common/errors.js';

// onnx-proto is CommonJS and replaces module.exports wholesale: Node exposes it only as a default import.
export const { onnx } = onnxProto;
export type ModelProto = Onnx.ModelProto;
export type GraphProto = Onnx.IGraphProto;
export type NodeProto = Onnx.INodeProto;
export type TensorProto = Onnx.ITensorProto;
export type AttributeProto = Onnx.IAttributeProto;

export const DataType = onnx.TensorProto.DataType;

/** Parses ONNX bytes; anything protobuf cannot read, or a model without a graph, is a 400. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw inferboxError('IBX_ERR_MALFORMED_ONNX', messageOf(error));
  }
  if (!model.graph) throw inferboxError('IBX_ERR_MALFORMED_ONNX', 'it has no graph');
  return model;
}

/** Serializes into an exactly sized array of its own (protobufjs may hand back a slice of a pool). */
export function encodeModel(model: ModelProto): Uint8Array {
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

/** int64 fields decode as Long (protobufjs 6); plain numbers are enough for dims and versions. */
export function toNumber(value: number | Long | null | undefined): number | null {
  return value == null ? null : Number(value);
}

export function dimsOf(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map((d) => Number(d));
}

/** The default-domain (ai.onnx) opset the model imports, or null. */
export function defaultOpset(model: ModelProto): number | null {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(entry?.version);
}

/**
 * A float32 initializer's values, from raw_data (little-endian, at any offset into the file's
 * buffer: copied so the Float32Array is aligned and owned) or from the typed float_data field.
 * Null when the tensor is not float32 or keeps its data elsewhere.
 */
export function readFloatTensor(tensor: TensorProto): Float32Array | null {
  if (tensor.dataType !== DataType.FLOAT || tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return null;
  const count = dimsOf(tensor).reduce((n, d) => n * d, 1);
  if (tensor.rawData && tensor.rawData.length > 0) {
    if (tensor.rawData.length !== count * 4) return null;
    const view = new DataView(tensor.rawData.buffer, tensor.rawData.byteOffset, tensor.rawData.byteLength);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    return values;
  }
  if (tensor.floatData && tensor.floatData.length === count) return Float32Array.from(tensor.floatData);
  return count === 0 ? new Float32Array(0) : null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function rawBytes(array: Float32Array | Int8Array | Uint8Array): Uint8Array {
  if (array instanceof Int8Array || array instanceof Uint8Array) return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
  const bytes = new Uint8Array(array.length * 4);
  if (LITTLE_ENDIAN) bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  else {
    const view = new DataView(bytes.buffer);
    array.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return bytes;
}

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dataType: DataType.FLOAT, dims, rawData: rawBytes(values) };
}

export function int8Tensor(name: string, dims: number[], values: Int8Array): TensorProto {
  return { name, dataType: DataType.INT8, dims, rawData: rawBytes(values) };
}

export function intAttribute(name: string, value: number): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** An attribute's int or float value (absent → fallback). */
export function numericAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = node.attribute?.find((a) => a.name === name);
  if (!attribute) return fallback;
  if (attribute.type === onnx.AttributeProto.AttributeType.FLOAT) return attribute.f ?? fallback;
  return toNumber(attribute.i) ?? fallback;
}
