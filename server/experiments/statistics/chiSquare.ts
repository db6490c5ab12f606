import { regularizedGammaQ } from './gamma.js';

/** Chi-square survival function P(X ≥ x) with `degreesOfFreedom` degrees of freedom: Q(k/2, x/2). */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  return regularizedGammaQ(degreesOfFreedom / 2, x / 2);
}
