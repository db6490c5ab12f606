import { getFloat16 } from '@petamoriken/float16';
import { elementCount, type OipDatatype, type RuntimeTensor, type TensorData, ortTypeOf } from '../common/datatypes.js';
import { inferboxError } from '../common/errors.js';

/**
 * The binary tensor data extension of Triton/KServe (HTTP/REST): the body is a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the raw data of every input whose
 * parameters carry `binary_data_size`, in the order the inputs are listed. Data is row-major,
 * little-endian; BOOL is one byte per element; BYTES elements are each a 4-byte little-endian
 * length followed by that many bytes.
 */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

/** Bytes per element of every fixed-size datatype. */
export const ELEMENT_BYTES: Record<Exclude<OipDatatype, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
};

/** Splits a binary-extension body into its JSON header and the binary part after it. */
export function splitBinaryBody(body: Buffer, headerLength: string): { json: Buffer; binary: Buffer } {
  if (!/^\d+$/.test(headerLength.trim())) throw inferboxError('IBX_ERR_BINARY_DATA', `the Inference-Header-Content-Length header '${headerLength}' is not a byte count`);
  const length = Number(headerLength);
  if (length > body.length) throw inferboxError('IBX_ERR_BINARY_DATA', `Inference-Header-Content-Length ${length} is beyond the ${body.length}-byte body`);
  return { json: body.subarray(0, length), binary: body.subarray(length) };
}

function copyAligned(bytes: Buffer, elementBytes: number): ArrayBuffer {
  // A fresh buffer: typed arrays need aligned offsets, and the request buffer is shared.
  const buffer = new ArrayBuffer(bytes.length - (bytes.length % elementBytes));
  new Uint8Array(buffer).set(bytes.subarray(0, buffer.byteLength));
  return buffer;
}

/** A plain loop: a callback per element (findIndex) was the costliest step of a binary CNN request. */
function firstNonFinite(floats: Float32Array | Float64Array): number {
  for (let i = 0; i < floats.length; i++) {
    const v = floats[i]!;
    if (v - v !== 0) return i; // NaN and ±Infinity give NaN
  }
  return -1;
}

/**
 * Decodes one input's raw bytes (little-endian hosts: every platform Inferbox ships on).
 * `bytesName` is what the caller calls those bytes (REST's `binary_data_size`, gRPC's `raw_input_contents[i]`).
 */
export function decodeBinaryTensor(name: string, datatype: OipDatatype, shape: number[], bytes: Buffer, bytesName = 'binary_data_size'): RuntimeTensor {
  const count = elementCount(shape);
  const type = ortTypeOf(datatype);
  if (datatype === 'BYTES') {
    const strings: string[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) throw inferboxError('IBX_ERR_BINARY_DATA', `input '${name}': BYTES element ${strings.length} has a truncated length prefix`);
      const length = bytes.readUInt32LE(offset);
      if (offset + 4 + length > bytes.length) throw inferboxError('IBX_ERR_BINARY_DATA', `input '${name}': BYTES element ${strings.length} runs past the end of its data`);
      strings.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (strings.length !== count) throw inferboxError('IBX_ERR_DATA_LENGTH', name, JSON.stringify(shape), String(count), bytesName, String(strings.length));
    return { type, dims: shape, data: strings };
  }
  const size = ELEMENT_BYTES[datatype];
  if (bytes.length !== count * size) {
    throw inferboxError('IBX_ERR_BINARY_DATA', `input '${name}': shape ${JSON.stringify(shape)} of ${datatype} needs ${count * size} bytes but ${bytesName} gives ${bytes.length}`);
  }
  const buffer = copyAligned(bytes, size);
  let data: TensorData;
  switch (datatype) {
    case 'BOOL': data = new Uint8Array(buffer).map((v) => (v ? 1 : 0)); break;
    case 'UINT8': data = new Uint8Array(buffer); break;
    case 'INT8': data = new Int8Array(buffer); break;
    case 'UINT16': case 'FP16': data = new Uint16Array(buffer); break;
    case 'INT16': data = new Int16Array(buffer); break;
    case 'UINT32': data = new Uint32Array(buffer); break;
    case 'INT32': data = new Int32Array(buffer); break;
    case 'UINT64': data = new BigUint64Array(buffer); break;
    case 'INT64': data = new BigInt64Array(buffer); break;
    case 'FP32': data = new Float32Array(buffer); break;
    case 'FP64': data = new Float64Array(buffer); break;
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    const bad = firstNonFinite(data as Float32Array | Float64Array);
    if (bad >= 0) throw inferboxError('IBX_ERR_INVALID_ELEMENT', name, String(bad), datatype, 'NaN and infinities are not allowed');
  }
  if (datatype === 'FP16') {
    const view = new DataView(buffer);
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(getFloat16(view, i * 2, true))) throw inferboxError('IBX_ERR_INVALID_ELEMENT', name, String(i), datatype, 'NaN and infinities are not allowed');
    }
  }
  return { type, dims: shape, data };
}

/** A runtime tensor's raw little-endian bytes, for a binary output. */
export function encodeBinaryTensor(tensor: RuntimeTensor): Buffer {
  const { data } = tensor;
  if (Array.isArray(data)) {
    const parts = data.flatMap((s) => {
      const bytes = Buffer.from(s, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    });
    return Buffer.concat(parts);
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
