import { oipTypeOf, type RuntimeTensor } from '../common/datatypes.js';

/** IEEE half-precision bits to a number (generated FP16 inputs travel as bits; OIP JSON carries values). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * A request the tuner sends as a business app would: an OIP v2 JSON infer body with every input
 * of one sample (stored or generated). 64-bit integers go as numbers, as JSON clients send them.
 */
export function oipJsonBody(feeds: Record<string, RuntimeTensor>): string {
  const inputs = Object.entries(feeds).map(([name, tensor]) => {
    const values = Array.from(tensor.data as ArrayLike<number | bigint | string>, (value) => (typeof value === 'bigint' ? Number(value) : value));
    return {
      name,
      datatype: oipTypeOf(tensor.type),
      shape: tensor.dims,
      data: tensor.type === 'float16' ? values.map((bits) => halfToNumber(bits as number)) : values,
    };
  });
  return JSON.stringify({ inputs });
}
