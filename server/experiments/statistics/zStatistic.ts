/**
 * estimate / standardError, with the zero-variance limits spelled out: a nonzero difference with
 * no noise at all is infinitely significant, no difference is not significant (0/0 would be NaN).
 */
export function zStatistic(estimate: number, standardError: number): number {
  if (standardError > 0) return estimate / standardError;
  return estimate === 0 ? 0 : Math.sign(estimate) * Infinity;
}
