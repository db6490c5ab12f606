/**
 * Deterministic sticky assignment, bit for bit GrowthBook's (sdk-js `src/util.ts`: `hashFnv32a`,
 * `hash` version 2, `getBucketRanges`, `chooseVariation`), so an experiment split here lands each
 * unit in the same bucket GrowthBook's SDKs would, and GrowthBook's published test vectors apply.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a 32-bit (GrowthBook's `fnv32a`). Like GrowthBook it hashes UTF-16 code units
 * (`charCodeAt`), not UTF-8 bytes: that is what makes the buckets match theirs for non-ASCII ids.
 */
export function fnv1a32(value: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    // GrowthBook's shift-and-add sequence is multiplication by the FNV prime modulo 2^32.
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * GrowthBook hash version 2: (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000, in [0, 1).
 * Hashing the decimal string of the first hash again removes version 1's bias between ids that
 * share a prefix; 10,000 buckets give 0.01 % weight resolution.
 */
export function hashV2(seed: string, value: string): number {
  return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
}


/**
 * GrowthBook getBucketRanges: one [start, end) range per weight, laid out from 0 in order. Weights
 * whose sum is off 1 by more than 0.01 fall back to equal weights (GrowthBook does not rescale
 * them); coverage is clamped to [0, 1] and shortens every range from its start, so raising it
 * later keeps the units already in the experiment in their variant.
 */
export function bucketRanges(weights: number[], coverage = 1): [number, number][] {
  const clampedCoverage = Math.min(1, Math.max(0, coverage));
  const total = weights.reduce((sum, w) => sum + w, 0);
  // GrowthBook's exact comparison: a sum of exactly 0.99 or 1.01 is kept.
  const used = total < 0.99 || total > 1.01 ? weights.map(() => 1 / weights.length) : weights;
  let cumulative = 0;
  return used.map((weight) => {
    const start = cumulative;
    cumulative += weight;
    return [start, start + clampedCoverage * weight];
  });
}

/** GrowthBook chooseVariation: index of the range containing n, or -1 (outside coverage). */
export function chooseVariation(n: number, ranges: [number, number][]): number {
  return ranges.findIndex(([start, end]) => n >= start && n < end);
}

/**
 * The variant index for a unit: hashV2(seed, unitId) placed in the weights' ranges at full
 * coverage. -1 only when the weights add up to slightly less than 1 (within GrowthBook's 0.01
 * tolerance) and the unit hashes into the uncovered remainder.
 */
export function assignVariant(seed: string, unitId: string, weights: number[]): number {
  return chooseVariation(hashV2(seed, unitId), bucketRanges(weights));
}
