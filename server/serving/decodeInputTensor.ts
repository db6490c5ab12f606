import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { inferboxError } from '../common/errors.js';
import { elementCount, type OipDatatype, type RuntimeTensor, type TensorData, ortTypeOf } from '../common/datatypes.js';

type Reject = (index: number, reason: string) => never;

/**
 * OIP allows data flat or nested ("row-major, flattened or nested"). Nested data must follow the
 * shape level by level; anything else would be silently reinterpreted.
 */
function flatten(name: string, data: readonly unknown[], shape: number[]): unknown[] {
  if (!data.some(Array.isArray)) return data as unknown[];
  const out: unknown[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw inferboxError('IBX_ERR_DATA_NESTING', name, JSON.stringify(shape), `data${path} nests deeper than the shape`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const got = Array.isArray(node) ? `${node.length} elements` : 'a single value';
      throw inferboxError('IBX_ERR_DATA_NESTING', name, JSON.stringify(shape), `data${path} has ${got} where the shape needs ${shape[depth]}`);
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return out;
}

const INTEGER_RANGES: Partial<Record<OipDatatype, [number, number]>> = {
  UINT8: [0, 0xff], UINT16: [0, 0xffff], UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f], INT16: [-0x8000, 0x7fff], INT32: [-0x80000000, 0x7fffffff],
};

function fillIntegers(values: unknown[], target: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array, [min, max]: [number, number], reject: Reject): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) reject(i, 'expected an integer');
    if (v < min || v > max) reject(i, `out of range ${min}..${max}`);
    target[i] = v;
  }
}

/** 64-bit integers: JSON numbers (exact up to 2^53) or decimal strings for the full range. */
function fillBigInts(values: unknown[], target: BigInt64Array | BigUint64Array, signed: boolean, reject: Reject): void {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let big: bigint;
    if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
    else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
    else reject(i, 'expected an integer (a number up to 2^53, or a decimal string)');
    if (big < min || big > max) reject(i, 'out of range');
    target[i] = big;
  }
}

function fillFloats(values: unknown[], target: Float32Array | Float64Array, reject: Reject): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) reject(i, 'expected a finite number; NaN and infinities are not allowed');
    target[i] = v;
    // 1e300 is finite as a double but Infinity as FP32.
    if (!Number.isFinite(target[i]!)) reject(i, `out of the ${target instanceof Float32Array ? 'FP32' : 'FP64'} range`);
  }
}

function decodeData(datatype: OipDatatype, values: unknown[], reject: Reject): TensorData {
  const n = values.length;
  switch (datatype) {
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') reject(i, 'expected true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'UINT8': { const out = new Uint8Array(n); fillIntegers(values, out, INTEGER_RANGES.UINT8!, reject); return out; }
    case 'UINT16': { const out = new Uint16Array(n); fillIntegers(values, out, INTEGER_RANGES.UINT16!, reject); return out; }
    case 'UINT32': { const out = new Uint32Array(n); fillIntegers(values, out, INTEGER_RANGES.UINT32!, reject); return out; }
    case 'INT8': { const out = new Int8Array(n); fillIntegers(values, out, INTEGER_RANGES.INT8!, reject); return out; }
    case 'INT16': { const out = new Int16Array(n); fillIntegers(values, out, INTEGER_RANGES.INT16!, reject); return out; }
    case 'INT32': { const out = new Int32Array(n); fillIntegers(values, out, INTEGER_RANGES.INT32!, reject); return out; }
    case 'UINT64': { const out = new BigUint64Array(n); fillBigInts(values, out, false, reject); return out; }
    case 'INT64': { const out = new BigInt64Array(n); fillBigInts(values, out, true, reject); return out; }
    case 'FP32': { const out = new Float32Array(n); fillFloats(values, out, reject); return out; }
    case 'FP64': { const out = new Float64Array(n); fillFloats(values, out, reject); return out; }
    case 'FP16': {
      // ORT takes float16 as raw IEEE half bits in a Uint16Array.
      const floats = new Float64Array(n);
      fillFloats(values, floats, reject);
      const out = new Uint16Array(n);
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) {
        setFloat16(view, i * 2, floats[i]!, true);
        if (!Number.isFinite(getFloat16(view, i * 2, true))) reject(i, 'out of the FP16 range');
      }
      return out;
    }
    case 'BYTES': {
      for (let i = 0; i < n; i++) if (typeof values[i] !== 'string') reject(i, 'expected a string');
      return values as string[];
    }
  }
}

/**
 * Turns one OIP JSON input into a runtime tensor, naming the input and element in every error;
 * `dataName` is what the caller calls the elements (REST's `data`, gRPC's `contents.<field>`).
 */
export function decodeInputTensor(name: string, datatype: OipDatatype, shape: number[], data: readonly unknown[], dataName = 'data'): RuntimeTensor {
  const values = flatten(name, data, shape);
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw inferboxError('IBX_ERR_DATA_LENGTH', name, JSON.stringify(shape), String(expected), dataName, String(values.length));
  }
  const reject: Reject = (index, reason) => {
    throw inferboxError('IBX_ERR_INVALID_ELEMENT', name, String(index), datatype, reason);
  };
  return { type: ortTypeOf(datatype), dims: shape, data: decodeData(datatype, values, reject) };
}
