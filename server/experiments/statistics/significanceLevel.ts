import { StatisticsInputError } from './StatisticsInputError.js';

/** The default significance level: 5 % false positives, for fixed and always-valid tests alike. */
export const DEFAULT_ALPHA = 0.05;

/** The significance level to use, refused outside (0, upper). */
export function significanceLevel(alpha: number | undefined, upper = 1): number {
  const chosen = alpha ?? DEFAULT_ALPHA;
  if (!(chosen > 0 && chosen < upper)) throw new StatisticsInputError(`alpha must lie in (0, ${upper}), got ${chosen}`);
  return chosen;
}
