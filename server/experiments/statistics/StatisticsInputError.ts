/**
 * Statistics were asked for with impossible inputs (negative unit counts, non-finite sums, a
 * significance level outside (0, 1), weights that do not match the variants). Callers build these
 * inputs from stored counts, so this is a bug on their side, not a user error: it is not in the
 * server's error table and reaches HTTP as a 500.
 */
export class StatisticsInputError extends Error {
  override readonly name = 'StatisticsInputError';
}
