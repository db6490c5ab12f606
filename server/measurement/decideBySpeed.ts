import type { RatioEstimate } from './PairedRatio.js';

export interface SpeedDecision<Choice extends string> {
  choice: Choice;
  /** Whether the choice differs from the one in place. */
  changed: boolean;
  reason: string;
}

const times = (value: number) => `${value.toFixed(3)}×`;

/** "speed-up 1.041× (95% interval 1.020×-1.062×, 180 pairs)", for reports. */
export function describeSpeedup(estimate: RatioEstimate | null): string {
  return estimate ? `speed-up ${times(estimate.ratio)} (95% interval ${times(estimate.low)}-${times(estimate.high)}, ${estimate.pairs} pairs)` : 'speed-up not measured (too few timed pairs for an interval)';
}

/**
 * How far the whole interval must clear the margin for a choice to change (3%, either way). The
 * interval alone is not enough: one run's interval describes that run, but runs differ by more
 * (PP-OCRv4's int8 recognizer measured 1.022-1.038x in ten runs with intervals of about +-1%, and
 * one model timed against itself measured 1.003-1.049x), so an interval that just clears the
 * margin in one run can just miss it in the next.
 */
export const HYSTERESIS_BAND = 0.03;

/**
 * Hysteresis on a measured speed-up of B over A: B replaces A only when the whole 95% interval is
 * above the margin by HYSTERESIS_BAND, A replaces B only when the whole interval is below it by as
 * much, and otherwise the choice in place stays. A speed-up near the margin (int8 at 1.03-1.04x
 * against 1.05x measured 1.025-1.074x in five runs of one job, and the served precision flipped)
 * keeps whatever was chosen first; only a difference the measurement is sure of changes it.
 */
export function decideBySpeed<Choice extends string>(
  current: Choice,
  choices: { a: Choice; b: Choice },
  estimate: RatioEstimate | null,
  margin: number,
): SpeedDecision<Choice> {
  const keep = (why: string): SpeedDecision<Choice> => ({ choice: current, changed: false, reason: `${why}: ${current} stays (the choice in place)` });
  if (!estimate) return keep(`too few timed pairs for an interval`);
  const [up, down] = [margin * (1 + HYSTERESIS_BAND), margin / (1 + HYSTERESIS_BAND)];
  const measured = `${choices.b} vs ${choices.a}: ${describeSpeedup(estimate)}`;
  if (estimate.low > up) {
    return { choice: choices.b, changed: current !== choices.b, reason: `${measured} is above ${times(up)} (${times(margin)} and 3% to spare) throughout` };
  }
  if (estimate.high < down) {
    return { choice: choices.a, changed: current !== choices.a, reason: `${measured} is below ${times(down)} (${times(margin)} less 3%) throughout` };
  }
  return keep(`${measured} is not clear of ${times(margin)} by 3% either way`);
}
