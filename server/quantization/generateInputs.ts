import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { ortTypeOf } from '../common/datatypes.js';
import { mulberry32 } from '../common/mulberry32.js';

/** The size used for a dynamic dimension when nothing says better: batch 1, other dims 32. */
const DYNAMIC_DIM_DEFAULTS = { batch: 1, other: 32 };

/**
 * Inputs made up from the signature, the gate's last resort when no real samples exist:
 * standard-normal-ish floats, small integers, booleans, short strings. Decisions made on them are
 * marked unvalidated, since real inputs may sit in ranges these never visit.
 */
export function generateInputs(inputs: TensorSpec[], count: number, seed = 1): Record<string, RuntimeTensor>[] {
  const random = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: count }, () =>
    Object.fromEntries(
      inputs.map((spec) => {
        const dims = spec.shape.map((d, i) => (d >= 0 ? d : i === 0 ? DYNAMIC_DIM_DEFAULTS.batch : DYNAMIC_DIM_DEFAULTS.other));
        const n = dims.reduce((a, b) => a * b, 1);
        const type = ortTypeOf(spec.datatype);
        let data: RuntimeTensor['data'];
        switch (type) {
          case 'float32': data = Float32Array.from({ length: n }, gaussian); break;
          case 'float64': data = Float64Array.from({ length: n }, gaussian); break;
          case 'bool': data = Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)); break;
          case 'int64': data = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 10))); break;
          case 'uint64': data = BigUint64Array.from({ length: n }, () => BigInt(Math.floor(random() * 10))); break;
          case 'int32': data = Int32Array.from({ length: n }, () => Math.floor(random() * 10)); break;
          case 'string': data = Array.from({ length: n }, () => `sample ${Math.floor(random() * 100)}`); break;
          case 'float16': data = new Uint16Array(n).fill(0x3c00); break; // 1.0 as IEEE half bits
          case 'int8': data = Int8Array.from({ length: n }, () => Math.floor(random() * 10)); break;
          case 'uint8': data = Uint8Array.from({ length: n }, () => Math.floor(random() * 10)); break;
          case 'int16': data = Int16Array.from({ length: n }, () => Math.floor(random() * 10)); break;
          case 'uint16': data = Uint16Array.from({ length: n }, () => Math.floor(random() * 10)); break;
          case 'uint32': data = Uint32Array.from({ length: n }, () => Math.floor(random() * 10)); break;
        }
        return [spec.name, { type, dims, data }];
      }),
    ),
  );
}
