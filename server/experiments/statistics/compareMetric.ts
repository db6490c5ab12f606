import { sampleMoments, type MetricSample, type SampleMoments } from './MetricSample.js';
import { defaultTau, twoSidedSequence } from './confidenceSequence.js';
import { normalQuantile, normalTwoSidedPValue } from './normal.js';
import { significanceLevel } from './significanceLevel.js';
import { zStatistic } from './zStatistic.js';

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** A variant's mean (a rate for 0/1 metrics) with its fixed-horizon confidence interval. */
export interface VariantEstimate {
  units: number;
  mean: number;
  lower: number;
  upper: number;
}

/**
 * Treatment against control on one metric. Where a variance is unknown (fewer than 2 units in an
 * arm) the intervals are (−∞, +∞) and the p-values 1: honest "no information", never NaN.
 */
export interface Comparison {
  control: VariantEstimate;
  treatment: VariantEstimate;
  /** treatment − control, fixed-horizon Welch interval with normal quantiles. */
  difference: Interval;
  /** (treatment − control)/control, delta-method interval; null when the control mean is 0 (no relative change exists). */
  relativeLift: Interval | null;
  /** Two-sided, fixed horizon: valid only if looked at once, at a sample size fixed in advance. */
  pValue: number;
  /** Always-valid interval on the difference and always-valid p-value (confidenceSequence.ts). */
  sequential: { lower: number; upper: number; pValue: number };
}

const UNBOUNDED = { lower: -Infinity, upper: Infinity };

function variantEstimate(moments: SampleMoments, z: number): VariantEstimate {
  const { units, mean, variance } = moments;
  if (variance === null) return { units, mean, ...UNBOUNDED };
  const halfwidth = z * Math.sqrt(variance / units);
  return { units, mean, lower: mean - halfwidth, upper: mean + halfwidth };
}

/**
 * Relative lift by the delta method, first order in both means (the arms are independent):
 * Var(t/c) ≈ Var(t)/c² + t²·Var(c)/c⁴, as gbstats' frequentist relative uplift.
 */
function relativeLift(control: SampleMoments, treatment: SampleMoments, z: number): Interval | null {
  if (control.mean === 0) return null;
  const estimate = treatment.mean / control.mean - 1;
  if (control.variance === null || treatment.variance === null) return { estimate, ...UNBOUNDED };
  const c2 = control.mean * control.mean;
  const variance = treatment.variance / treatment.units / c2 + (treatment.mean * treatment.mean * control.variance) / control.units / (c2 * c2);
  const halfwidth = z * Math.sqrt(variance);
  return { estimate, lower: estimate - halfwidth, upper: estimate + halfwidth };
}

/**
 * Fixed-horizon and always-valid comparison of treatment with control. Normal (z) rather than
 * Student-t quantiles: the always-valid side is an asymptotic normal method anyway, and at the
 * sample sizes an experiment is judged on the two agree to the third decimal.
 * `tau`: the mixing standard deviation of the always-valid method, defaultTau(alpha, 2) if omitted.
 */
export function compareMetric(control: MetricSample, treatment: MetricSample, options: { alpha?: number; tau?: number } = {}): Comparison {
  const alpha = significanceLevel(options.alpha);
  const tau = options.tau ?? defaultTau(alpha, 2);
  const c = sampleMoments(control);
  const t = sampleMoments(treatment);
  const z = normalQuantile(1 - alpha / 2);
  const estimate = t.mean - c.mean;
  const base = { control: variantEstimate(c, z), treatment: variantEstimate(t, z), relativeLift: relativeLift(c, t, z) };
  if (c.variance === null || t.variance === null) {
    return { ...base, difference: { estimate, ...UNBOUNDED }, pValue: 1, sequential: { ...UNBOUNDED, pValue: 1 } };
  }
  const standardError = Math.sqrt(c.variance / c.units + t.variance / t.units);
  const halfwidth = z * standardError;
  return {
    ...base,
    difference: { estimate, lower: estimate - halfwidth, upper: estimate + halfwidth },
    pValue: normalTwoSidedPValue(zStatistic(estimate, standardError)),
    sequential: twoSidedSequence(estimate, standardError, c.units + t.units, alpha, tau),
  };
}
