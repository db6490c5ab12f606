import { StatisticsInputError } from './StatisticsInputError.js';

/** Per-unit aggregated observations of one variant for one metric: number of units, Σ value, Σ value². Binary metrics: value 0/1. */
export interface MetricSample {
  units: number;
  sum: number;
  sumSquares: number;
}

/** Mean and sample variance of a MetricSample; `variance` is null below 2 units, where it is unknown. */
export interface SampleMoments {
  units: number;
  mean: number;
  variance: number | null;
}

/**
 * Moments from the running sums. The variance divides by n − 1 (the unbiased estimate Welch's test
 * uses, as gbstats' SampleMeanStatistic does); for 0/1 values that is p(1 − p)·n/(n − 1). It is
 * clamped at 0 because Σx² − (Σx)²/n can come out a rounding error below 0 when all values are equal.
 */
export function sampleMoments(sample: MetricSample): SampleMoments {
  const { units, sum, sumSquares } = sample;
  if (!Number.isInteger(units) || units < 0) throw new StatisticsInputError(`units must be a whole number ≥ 0, got ${units}`);
  if (!Number.isFinite(sum) || !Number.isFinite(sumSquares) || sumSquares < 0) {
    throw new StatisticsInputError(`sum and sumSquares must be finite and sumSquares ≥ 0, got ${sum} and ${sumSquares}`);
  }
  if (units === 0) return { units, mean: 0, variance: null };
  const mean = sum / units;
  if (units === 1) return { units, mean, variance: null };
  return { units, mean, variance: Math.max(0, (sumSquares - sum * mean) / (units - 1)) };
}
