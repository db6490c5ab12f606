/**
 * A small builder that writes ONNX ModelProto bytes from plain descriptions of a graph.
 * It covers what Inferbox's bundled model and test fixtures need: tensor initializers (raw little-endian data or
 * external data references), typed inputs/outputs with fixed or symbolic dims, nodes with int/ints/float/string
 * attributes, and model-level fields (opset, IR version, producer, metadata_props).
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS and assigns module.exports wholesale, so Node only exposes it as a default import.
const { onnx } = onnxProto;

/** Element types by the names onnxruntime-node uses for them. */
export type ElementType =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float16' | 'float32' | 'float64' | 'string';

/** A dimension: a fixed size, or a symbolic name (dim_param) for a size chosen per request. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElementType;
  shape: readonly Dim[];
}

/**
 * Tensor contents. float16 is given as its IEEE half-precision bits (Uint16Array) and bool as 0/1 bytes (Uint8Array),
 * the same representations onnxruntime-node uses.
 */
export type TensorData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array | readonly string[];

/** Where an externally stored tensor lives, relative to the model file. */
export interface ExternalDataRef {
  location: string;
  offset?: number;
  /** Defaults to the byte length of the initializer's data. */
  length?: number;
}

export interface Initializer {
  name: string;
  type: ElementType;
  dims: readonly number[];
  data: TensorData;
  /**
   * Reference the data from a file instead of embedding it. `data` is then not written into the model; write
   * `tensorBytes(type, data)` to the file yourself.
   */
  external?: ExternalDataRef;
}

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: readonly string[] };

/** Attribute constructors: a JS number alone cannot say whether ONNX should see an int or a float. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value }),
};

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Defaults to `<op>_<index>`. */
  name?: string;
  /** Operator set domain, e.g. 'ai.onnx.ml' (classic ML operators); defaults to the default domain. */
  domain?: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ModelSpec {
  /** Defaults to "main". */
  graphName?: string;
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  nodes: readonly NodeSpec[];
  initializers?: readonly Initializer[];
  /** Version of the default ("ai.onnx") operator set; defaults to 17. */
  opset?: number;
  /** Further operator sets the nodes use, e.g. { 'ai.onnx.ml': 3 }. */
  domains?: Readonly<Record<string, number>>;
  /** Defaults to 8, the IR version that goes with opset 17. */
  irVersion?: number;
  producer?: { name: string; version?: string };
  docString?: string;
  /** Written as metadata_props, in insertion order. */
  metadata?: Readonly<Record<string, string>>;
}

const DataType = onnx.TensorProto.DataType;

const DATA_TYPES: Record<ElementType, OnnxTypes.TensorProto.DataType> = {
  bool: DataType.BOOL, uint8: DataType.UINT8, uint16: DataType.UINT16, uint32: DataType.UINT32,
  uint64: DataType.UINT64, int8: DataType.INT8, int16: DataType.INT16, int32: DataType.INT32, int64: DataType.INT64,
  float16: DataType.FLOAT16, float32: DataType.FLOAT, float64: DataType.DOUBLE, string: DataType.STRING,
};

export type NumericType = Exclude<ElementType, 'string'>;

type TypedArrayClass = { new (length: number): ArrayLike<number | bigint>; readonly name: string };

/** How each numeric type is laid out in raw_data, and which array must carry it. */
const LAYOUTS: Record<NumericType, { bytes: number; array: TypedArrayClass; write: (view: DataView, at: number, value: number | bigint) => void }> = {
  bool: { bytes: 1, array: Uint8Array, write: (v, at, x) => v.setUint8(at, Number(x)) },
  uint8: { bytes: 1, array: Uint8Array, write: (v, at, x) => v.setUint8(at, Number(x)) },
  int8: { bytes: 1, array: Int8Array, write: (v, at, x) => v.setInt8(at, Number(x)) },
  uint16: { bytes: 2, array: Uint16Array, write: (v, at, x) => v.setUint16(at, Number(x), true) },
  int16: { bytes: 2, array: Int16Array, write: (v, at, x) => v.setInt16(at, Number(x), true) },
  float16: { bytes: 2, array: Uint16Array, write: (v, at, x) => v.setUint16(at, Number(x), true) },
  uint32: { bytes: 4, array: Uint32Array, write: (v, at, x) => v.setUint32(at, Number(x), true) },
  int32: { bytes: 4, array: Int32Array, write: (v, at, x) => v.setInt32(at, Number(x), true) },
  float32: { bytes: 4, array: Float32Array, write: (v, at, x) => v.setFloat32(at, Number(x), true) },
  uint64: { bytes: 8, array: BigUint64Array, write: (v, at, x) => v.setBigUint64(at, BigInt(x), true) },
  int64: { bytes: 8, array: BigInt64Array, write: (v, at, x) => v.setBigInt64(at, BigInt(x), true) },
  float64: { bytes: 8, array: Float64Array, write: (v, at, x) => v.setFloat64(at, Number(x), true) },
};

/**
 * The little-endian bytes ONNX expects in raw_data (and in external data files) for a numeric tensor.
 * Written element by element through a DataView so the result does not depend on the host's byte order.
 */
export function tensorBytes(type: NumericType, data: TensorData): Uint8Array {
  const layout = LAYOUTS[type];
  if (!(data instanceof layout.array)) throw new TypeError(`${type} data must be a ${layout.array.name}`);
  const values = data as ArrayLike<number | bigint>;
  const bytes = new Uint8Array(values.length * layout.bytes);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) layout.write(view, i * layout.bytes, values[i]!);
  return bytes;
}

/** Serializes a model. The output is a pure function of the spec, so equal specs give equal bytes. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }, ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version }))],
    producerName: spec.producer?.name ?? '',
    producerVersion: spec.producer?.version ?? '',
    docString: spec.docString ?? '',
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName ?? 'main',
      input: spec.inputs.map(valueInfoProto),
      output: spec.outputs.map(valueInfoProto),
      node: spec.nodes.map(nodeProto),
      initializer: (spec.initializers ?? []).map(tensorProto),
    },
  });
  // Copy out of protobufjs's Buffer (possibly a slice of a shared pool) into a plain, exactly sized array.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

function valueInfoProto(info: ValueInfo): OnnxTypes.IValueInfoProto {
  return {
    name: info.name,
    type: {
      tensorType: {
        elemType: DATA_TYPES[info.type],
        shape: { dim: info.shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function nodeProto(node: NodeSpec, index: number): OnnxTypes.INodeProto {
  return {
    name: node.name ?? `${node.op}_${index}`,
    opType: node.op,
    input: [...node.inputs],
    output: [...node.outputs],
    ...(node.domain ? { domain: node.domain } : {}),
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
  };
}

function attributeProto(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int': return { name, type: Type.INT, i: value.value };
    case 'ints': return { name, type: Type.INTS, ints: [...value.value] };
    case 'float': return { name, type: Type.FLOAT, f: value.value };
    case 'floats': return { name, type: Type.FLOATS, floats: [...value.value] };
    case 'string': return { name, type: Type.STRING, s: new TextEncoder().encode(value.value) };
    case 'strings': return { name, type: Type.STRINGS, strings: value.value.map((v) => new TextEncoder().encode(v)) };
  }
}

function tensorProto(init: Initializer): OnnxTypes.ITensorProto {
  const count = init.dims.reduce((n, dim) => n * dim, 1);
  if (init.data.length !== count) {
    throw new RangeError(`initializer ${init.name}: dims [${init.dims.join(', ')}] need ${count} values, got ${init.data.length}`);
  }
  const header = { name: init.name, dataType: DATA_TYPES[init.type], dims: [...init.dims] };
  if (init.type === 'string') {
    // ONNX forbids raw_data for strings; they go in string_data as UTF-8.
    if (init.external) throw new TypeError(`initializer ${init.name}: string tensors cannot use external data`);
    if (!Array.isArray(init.data)) throw new TypeError(`initializer ${init.name}: string data must be an array of strings`);
    return { ...header, stringData: init.data.map((s: string) => new TextEncoder().encode(s)) };
  }
  const raw = tensorBytes(init.type, init.data);
  if (!init.external) return { ...header, rawData: raw };
  const { location, offset = 0, length = raw.byteLength } = init.external;
  return {
    ...header,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}
