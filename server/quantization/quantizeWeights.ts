/**
 * Symmetric int8 quantization of a [K, N] weight matrix, one scale per output column (the
 * ORT quantize_dynamic scheme with per_channel): scale = max|w| / 127, zero point 0, values
 * rounded to nearest and clamped to [-127, 127] (never -128, so the range is symmetric).
 */
export function quantizeWeightsPerColumn(weights: Float32Array, k: number, n: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(n);
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < n; col++) {
      const magnitude = Math.abs(weights[row * n + col]!);
      if (magnitude > scales[col]!) scales[col] = magnitude;
    }
  }
  // An all-zero column keeps scale 1 so dequantization stays finite (its values are all 0 anyway).
  for (let col = 0; col < n; col++) scales[col] = scales[col]! > 0 ? scales[col]! / 127 : 1;
  const values = new Int8Array(k * n);
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < n; col++) {
      const q = Math.round(weights[row * n + col]! / scales[col]!);
      values[row * n + col] = Math.max(-127, Math.min(127, q));
    }
  }
  return { values, scales };
}

/** [N, K] → [K, N], for Gemm with transB = 1. */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c]!;
  return out;
}
