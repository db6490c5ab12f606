import { zStatistic } from './zStatistic.js';

/**
 * Always-valid inference on an asymptotically normal estimate (a difference of means): the
 * Gaussian-mixture confidence sequences GrowthBook uses, Waudby-Smith et al. 2023, "Time-uniform
 * central limit theory and asymptotic confidence sequences" (arXiv 2103.06476v7), eq. 9
 * (two-sided) and eq. 134 (one-sided). It is the normal-mixture mSPRT of Johari et al. 2017: with
 * z = estimate / SE, n the units in both arms and r = nτ², the mixture likelihood ratio
 *   Λ = exp(r·z² / (2(1 + r))) / √(1 + r)
 * is (asymptotically) a nonnegative martingale while there is no difference, so by Ville's
 * inequality P(Λ ever reaches 1/α) ≤ α: an admin may look after every unit and still has at most
 * α false positives. `pValue` = min(1, 1/Λ) at this look; rejecting when it falls below α at ANY
 * look is the valid test (the always-valid p-value proper is its running minimum over looks,
 * which a caller that stores past looks may show).
 *
 * τ is the mixing standard deviation on the standardized effect scale (effect / σ with σ² = n·SE²,
 * the per-unit variance), GrowthBook's ρ, so one τ fits rates, latencies and counts alike.
 */

/**
 * Units (both arms together) at which the default τ makes the sequence narrowest: GrowthBook's
 * default `sequential_tuning_parameter`. Width grows only like √log n beyond it, so a larger
 * experiment loses little; a smaller τ tuned for bigger experiments would make the early looks —
 * where a guardrail most needs to catch a bad model — much wider. See bench/simulateAb.ts for the
 * measured false positive rate and power at 20,000 units per arm.
 */
export const TUNING_UNITS = 5000;

/**
 * The default τ (GrowthBook's `sequential_rho`, eq. 161 of Waudby-Smith et al.): the mixing
 * standard deviation that minimizes the two-sided sequence's width at TUNING_UNITS units. A
 * one-sided test spends all of α on one side, so it is tuned as a two-sided test at 2α.
 */
export function defaultTau(alpha: number, sides: 1 | 2): number {
  const a = sides === 2 ? alpha : 2 * alpha;
  return Math.sqrt((-2 * Math.log(a) + Math.log(-2 * Math.log(a) + 1)) / TUNING_UNITS);
}

export interface SequentialInterval {
  lower: number;
  upper: number;
  pValue: number;
}

/** The two-sided always-valid interval on `estimate` and its always-valid p-value (see above). */
export function twoSidedSequence(estimate: number, standardError: number, units: number, alpha: number, tau: number): SequentialInterval {
  const r = units * tau * tau;
  if (!(r > 0)) return { lower: -Infinity, upper: Infinity, pValue: 1 };
  const halfwidth = standardError * Math.sqrt(((2 * (1 + r)) / r) * Math.log(Math.sqrt(1 + r) / alpha));
  const z = zStatistic(estimate, standardError);
  const logLikelihoodRatio = (r * z * z) / (2 * (1 + r)) - 0.5 * Math.log1p(r);
  return { lower: estimate - halfwidth, upper: estimate + halfwidth, pValue: Math.min(1, Math.exp(-logLikelihoodRatio)) };
}

/**
 * The one-sided always-valid p-value that the true effect is above 0, given `estimate` (flip its
 * sign to test "below"). Inverts eq. 134: the lower bound estimate − halfwidth(α) crosses 0 exactly at
 *   α = √(1 + r) / (2(exp(r·z² / (2(1 + r))) − 1)),
 * the closed form of the α that GrowthBook finds by bisection. Eq. 134's boundary implies the
 * half-normal mixture martingale reaches 1/α (its Φ factor is bounded by the Gaussian tail bound
 * 1 − Φ(x) ≤ e^(−x²/2)/2), so Ville's inequality holds here too.
 */
export function oneSidedSequencePValue(estimate: number, standardError: number, units: number, tau: number): number {
  const r = units * tau * tau;
  const z = zStatistic(estimate, standardError);
  if (!(r > 0) || z <= 0) return 1;
  return Math.min(1, Math.sqrt(1 + r) / (2 * Math.expm1((r * z * z) / (2 * (1 + r)))));
}
