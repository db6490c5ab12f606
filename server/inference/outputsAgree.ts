import type { InferOutcome } from './InferenceService.js';

type Values = ArrayLike<number | string | boolean | bigint>;

const FLOATS = new Set(['FP16', 'FP32', 'FP64']);
const TYPED: Record<string, (b: Buffer) => Values> = {
  FP32: (b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  FP64: (b) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  INT32: (b) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  INT64: (b) => new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
};

/** Each output's values, whether it came as JSON data or as binary-extension bytes. */
function outputValues(outcome: InferOutcome): Map<string, { datatype: string; shape: number[]; values: Values }> {
  const result = new Map<string, { datatype: string; shape: number[]; values: Values }>();
  let binaryIndex = 0;
  for (const output of outcome.response.outputs) {
    if ('data' in output) {
      result.set(output.name, { datatype: output.datatype, shape: output.shape, values: output.data.flat(Infinity) as Values });
    } else {
      const bytes = outcome.binary[binaryIndex++]!;
      result.set(output.name, { datatype: output.datatype, shape: output.shape, values: TYPED[output.datatype]?.(bytes) ?? Uint8Array.from(bytes) });
    }
  }
  return result;
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
 * Whether a shadow's answer agrees with the served one: the same outputs and shapes; class
 * scores ([n, k] floats) agree on each row's top class, other floats within 1e-3 relative, and
 * everything else exactly. Precision differences (fp32 vs int8) thus agree; a different answer does not.
 */
export function outputsAgree(served: InferOutcome, shadow: InferOutcome): boolean {
  const a = outputValues(served);
  const b = outputValues(shadow);
  for (const [name, left] of a) {
    const right = b.get(name);
    if (!right || right.datatype !== left.datatype || right.shape.join() !== left.shape.join() || right.values.length !== left.values.length) return false;
    if (FLOATS.has(left.datatype) && left.shape.length === 2 && left.shape[1]! > 1) {
      if (argmaxRows(left.values, left.shape[1]!).join() !== argmaxRows(right.values, left.shape[1]!).join()) return false;
      continue;
    }
    for (let i = 0; i < left.values.length; i++) {
      const x = left.values[i]!;
      const y = right.values[i]!;
      const same = FLOATS.has(left.datatype) ? Math.abs(Number(x) - Number(y)) <= 1e-3 * Math.max(1, Math.abs(Number(x))) : x === y;
      if (!same) return false;
    }
  }
  return true;
}
