import { StatisticsInputError } from './StatisticsInputError.js';
import { chiSquareSurvival } from './chiSquare.js';

export interface SampleRatioMismatch {
  /** False while some variant expects fewer than minUnitsPerVariant units: too few for the chi-square approximation. */
  checked: boolean;
  chiSquare: number;
  pValue: number;
  /** checked and pValue < threshold: the split is broken (assignment, logging or a variant failing), so its results are suspect. */
  mismatch: boolean;
}

/**
 * Pearson's chi-square goodness-of-fit of the observed units per variant against the configured
 * weights (normalized by their sum), k − 1 degrees of freedom. The rule: warn at p < 0.001
 * (so a healthy experiment checked at every look rarely warns) with at least 8 units per variant.
 * "Per variant" is read as expected units (N·wᵢ ≥ 8), the quantity the approximation needs: with
 * observed units, a variant that receives none — the worst mismatch there is — would never be checked.
 */
export function sampleRatioMismatch(
  units: number[],
  weights: number[],
  options: { threshold?: number; minUnitsPerVariant?: number } = {},
): SampleRatioMismatch {
  const { threshold = 0.001, minUnitsPerVariant = 8 } = options;
  if (units.length !== weights.length || units.length < 2) {
    throw new StatisticsInputError(`need one unit count per weight and at least 2 variants, got ${units.length} counts and ${weights.length} weights`);
  }
  if (units.some((n) => !Number.isInteger(n) || n < 0)) throw new StatisticsInputError(`unit counts must be whole numbers ≥ 0, got ${units.join(', ')}`);
  if (weights.some((w) => !(w > 0) || !Number.isFinite(w))) throw new StatisticsInputError(`weights must be finite and > 0, got ${weights.join(', ')}`);
  const total = units.reduce((sum, n) => sum + n, 0);
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  if (total === 0) return { checked: false, chiSquare: 0, pValue: 1, mismatch: false };
  const chiSquare = units.reduce((sum, observed, i) => sum + (observed - expected[i]!) ** 2 / expected[i]!, 0);
  const pValue = chiSquareSurvival(chiSquare, units.length - 1);
  const checked = expected.every((e) => e >= minUnitsPerVariant);
  return { checked, chiSquare, pValue, mismatch: checked && pValue < threshold };
}
