/**
 * The largest quantized weight magnitude: 7 bits (ORT quantize_dynamic's `reduce_range`), not 127.
 * On x86 CPUs without VNNI (AVX2 and AVX-512 without it), onnxruntime's u8×s8 kernels add pairs of
 * products in 16 bits with saturation (vpmaddubsw): 255 × 127 × 2 overflows, 255 × 63 × 2 does
 * not. Measured on an AVX2-only AMD EPYC with full-range weights: cosine 0.986 where a VNNI
 * machine gave over 0.995 (test/server/quantization/quantizeDynamicMatMul). An int8 file must
 * stay accurate on any CPU it may be served on (a restored backup, a migrated VM), so the range
 * is reduced everywhere, at the cost of one bit of weight precision on CPUs that have VNNI.
 */
export const WEIGHT_LEVELS = 63;

/**
 * Symmetric int8 quantization of a [K, N] weight matrix, one scale per output column (the
 * ORT quantize_dynamic scheme with per_channel and reduce_range): scale = max|w| / WEIGHT_LEVELS,
 * zero point 0, values rounded to nearest and clamped to [-WEIGHT_LEVELS, WEIGHT_LEVELS].
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
  for (let col = 0; col < n; col++) scales[col] = scales[col]! > 0 ? scales[col]! / WEIGHT_LEVELS : 1;
  const values = new Int8Array(k * n);
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < n; col++) {
      const q = Math.round(weights[row * n + col]! / scales[col]!);
      values[row * n + col] = Math.max(-WEIGHT_LEVELS, Math.min(WEIGHT_LEVELS, q));
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
