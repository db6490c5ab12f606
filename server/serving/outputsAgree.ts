import { getFloat16 } from '@petamoriken/float16';
import type { RuntimeTensor } from '../common/datatypes.js';

type Values = ArrayLike<number | string | bigint>;

const FLOATS = new Set(['float16', 'float32', 'float64']);

/** The tensor's elements; float16 (raw IEEE half bits) widened to numbers so tolerances apply. */
function valuesOf(tensor: RuntimeTensor): Values {
  if (tensor.type !== 'float16') return tensor.data as Values;
  const data = tensor.data as Uint16Array;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.length }, (_, i) => getFloat16(view, i * 2, true));
}

function argmaxRows(values: Values, width: number): number[] {
  const rows: number[] = [];
  for (let start = 0; start < values.length; start += width) {
    let best = start;
    for (let i = start + 1; i < start + width; i++) if (Number(values[i]) > Number(values[best])) best = i;
    rows.push(best - start);
  }
  return rows;
}

/**
 * Whether a shadow's answer agrees with the served one, compared on the model outputs themselves
 * (not on either caller's wire format): the same outputs, types and shapes; class scores ([n, k]
 * floats) agree on each row's top class, other floats within 1e-3 relative, and everything else
 * exactly. Precision differences (fp32 vs int8) thus agree; a different answer does not.
 */
export function outputsAgree(served: Record<string, RuntimeTensor>, shadow: Record<string, RuntimeTensor>): boolean {
  for (const [name, left] of Object.entries(served)) {
    const right = shadow[name];
    if (!right || right.type !== left.type || right.dims.join() !== left.dims.join() || right.data.length !== left.data.length) return false;
    const [a, b] = [valuesOf(left), valuesOf(right)];
    const float = FLOATS.has(left.type);
    if (float && left.dims.length === 2 && left.dims[1]! > 1) {
      if (argmaxRows(a, left.dims[1]!).join() !== argmaxRows(b, left.dims[1]!).join()) return false;
      continue;
    }
    for (let i = 0; i < a.length; i++) {
      const [x, y] = [a[i]!, b[i]!];
      const same = float ? Math.abs(Number(x) - Number(y)) <= 1e-3 * Math.max(1, Math.abs(Number(x))) : x === y;
      if (!same) return false;
    }
  }
  return true;
}
