import { sampleMoments, type MetricSample } from './MetricSample.js';
import { defaultTau, oneSidedSequencePValue } from './confidenceSequence.js';
import { significanceLevel } from './significanceLevel.js';

export interface GuardrailResult {
  /** The always-valid p-value fell below alpha: treatment is worse, and stopping now keeps false alarms ≤ alpha. */
  breached: boolean;
  /** One-sided always-valid p-value for "treatment is worse"; 1 when treatment looks no worse. */
  pValue: number;
  /** treatment − control means. */
  difference: number;
}

/**
 * One-sided always-valid test that treatment is WORSE than control (higherIsWorse: treatment mean
 * above control, e.g. error rate). Guardrails are checked continuously, so a fixed-horizon test
 * would raise false alarms at almost every experiment; this one keeps P(any false breach) ≤ alpha.
 * One-sided because only harm stops an experiment: all of alpha goes to that side (Waudby-Smith et
 * al. eq. 134, tuned like GrowthBook's one-sided sequential test). alpha must be below 0.5.
 */
export function sequentialGuardrail(control: MetricSample, treatment: MetricSample, options: { alpha?: number; higherIsWorse: boolean; tau?: number }): GuardrailResult {
  const alpha = significanceLevel(options.alpha, 0.5);
  const tau = options.tau ?? defaultTau(alpha, 1);
  const c = sampleMoments(control);
  const t = sampleMoments(treatment);
  const difference = t.mean - c.mean;
  if (c.variance === null || t.variance === null) return { breached: false, pValue: 1, difference };
  const standardError = Math.sqrt(c.variance / c.units + t.variance / t.units);
  const worse = options.higherIsWorse ? difference : -difference;
  const pValue = oneSidedSequencePValue(worse, standardError, c.units + t.units, tau);
  return { breached: pValue < alpha, pValue, difference };
}
