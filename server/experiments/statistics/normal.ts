import { StatisticsInputError } from './StatisticsInputError.js';
import { regularizedGammaP, regularizedGammaQ } from './gamma.js';

/** Standard normal CDF Φ(z). erfc(t) = Q(1/2, t²), so each tail is one accurate Q evaluation. */
export function normalCdf(z: number): number {
  const half = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z < 0 ? half : 0.5 + 0.5 * regularizedGammaP(0.5, (z * z) / 2);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2), exact in the far tail. */
export function normalTwoSidedPValue(z: number): number {
  return regularizedGammaQ(0.5, (z * z) / 2);
}

/** Acklam's rational approximation of Φ⁻¹ (relative error < 1.2e-9), refined below to full precision. */
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function acklam(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  if (p < P_LOW || p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p < P_LOW ? p : 1 - p));
    const x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
    return p < P_LOW ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/** Standard normal quantile Φ⁻¹(p): Acklam's start plus one Halley step on normalCdf (as Acklam recommends). */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new StatisticsInputError(`normal quantile needs a probability in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const x = acklam(p);
  const error = normalCdf(x) - p;
  const u = error * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
