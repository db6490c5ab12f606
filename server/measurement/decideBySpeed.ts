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
 * Hysteresis on a measured speed-up of B over A: B replaces A only when the whole 95% interval is
 * above the margin, A replaces B only when the whole interval is below it, and otherwise the
 * choice in place stays. A speed-up that sits near the margin (int8 at 1.03-1.04× against 1.05×
 * measured 1.025-1.074× in five runs of one job) then keeps whatever was chosen first instead of
 * flipping with the machine's noise; only a difference the measurement is sure of changes it.
 */
export function decideBySpeed<Choice extends string>(
  current: Choice,
  choices: { a: Choice; b: Choice },
  estimate: RatioEstimate | null,
  margin: number,
): SpeedDecision<Choice> {
  const keep = (why: string): SpeedDecision<Choice> => ({ choice: current, changed: false, reason: `${why}: ${current} stays (the choice in place)` });
  if (!estimate) return keep(`too few timed pairs for an interval`);
  const measured = `${choices.b} vs ${choices.a}: ${describeSpeedup(estimate)}`;
  if (estimate.low > margin) {
    return { choice: choices.b, changed: current !== choices.b, reason: `${measured} is above ${times(margin)} throughout` };
  }
  if (estimate.high < margin) {
    return { choice: choices.a, changed: current !== choices.a, reason: `${measured} is below ${times(margin)} throughout` };
  }
  return keep(`${measured} straddles ${times(margin)}`);
}
