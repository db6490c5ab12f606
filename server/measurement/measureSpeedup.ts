import { HYSTERESIS_BAND } from './decideBySpeed.js';
import { MIN_PAIRS_FOR_INTERVAL, PairedRatio, type RatioEstimate } from './PairedRatio.js';

export type Alternative = 'a' | 'b';

export interface SpeedupOptions {
  /** Runs one alternative once; `pair` picks the input (both runs of a pair get the same one). */
  run: (which: Alternative, pair: number) => Promise<unknown> | unknown;
  /** The time allowed, in ms: measuring stops at the first pair after it (a slow model: after MIN_PAIRS_FOR_INTERVAL pairs, at most 4× this). */
  budgetMs: number;
  /** The speed-up a decision turns on: measuring stops early once the interval lies wholly above or below it, by HYSTERESIS_BAND (what decideBySpeed needs to change a choice). */
  margin?: number;
  /** Stop once the interval's half-width is within this share of the ratio (default 1%). */
  halfWidth?: number;
  minPairs?: number;
  maxPairs?: number;
  /** Called before every run: throws to abandon the measurement (a stop). */
  checkStop?: () => void;
  now?: () => number;
}

export interface SpeedupMeasurement {
  /** null when not even MIN_PAIRS_FOR_INTERVAL pairs fit in the time allowed. */
  estimate: RatioEstimate | null;
  aMedianMs: number;
  bMedianMs: number;
  stoppedBy: 'interval narrow' | 'interval clears the margin' | 'time budget' | 'pair limit';
}

const DEFAULTS = { halfWidth: 0.01, minPairs: 30, maxPairs: 2000 };
/** Sorting for the interval is O(n log n): look every few pairs, not after each. */
const CHECK_EVERY = 5;

/**
 * Measures how much faster B is than A: repeated pairs on the same input, the order alternating
 * (A then B, B then A) so neither gains from running second, until the 95% interval of the ratio
 * is narrow enough, or decides the margin, or the time is up. One loop for every decision the
 * appliance makes by timing (the int8 gate, WebGPU placement), so they all share the same rules.
 */
export async function measureSpeedup(options: SpeedupOptions): Promise<SpeedupMeasurement> {
  const { run, budgetMs, margin, checkStop } = options;
  const halfWidth = options.halfWidth ?? DEFAULTS.halfWidth;
  const minPairs = Math.max(MIN_PAIRS_FOR_INTERVAL, options.minPairs ?? DEFAULTS.minPairs);
  const maxPairs = Math.max(minPairs, options.maxPairs ?? DEFAULTS.maxPairs);
  const now = options.now ?? (() => performance.now());
  const timed = async (which: Alternative, pair: number) => {
    checkStop?.();
    const started = now();
    await run(which, pair);
    return now() - started;
  };
  const ratio = new PairedRatio();
  const started = now();
  let stoppedBy: SpeedupMeasurement['stoppedBy'] = 'pair limit';
  for (let pair = 0; pair < maxPairs; pair++) {
    let aMs: number, bMs: number;
    if (pair % 2 === 0) {
      aMs = await timed('a', pair);
      bMs = await timed('b', pair);
    } else {
      bMs = await timed('b', pair);
      aMs = await timed('a', pair);
    }
    ratio.add(aMs, bMs);
    const elapsed = now() - started;
    if (elapsed >= budgetMs * 4 || (elapsed >= budgetMs && ratio.pairs >= MIN_PAIRS_FOR_INTERVAL)) {
      stoppedBy = 'time budget';
      break;
    }
    if (ratio.pairs >= minPairs && ratio.pairs % CHECK_EVERY === 0) {
      const estimate = ratio.estimate()!;
      if (margin !== undefined && (estimate.low > margin * (1 + HYSTERESIS_BAND) || estimate.high < margin / (1 + HYSTERESIS_BAND))) {
        stoppedBy = 'interval clears the margin';
        break;
      }
      if (estimate.high / estimate.low <= ((1 + halfWidth) / (1 - halfWidth))) {
        stoppedBy = 'interval narrow';
        break;
      }
    }
  }
  const medians = ratio.medians();
  return { estimate: ratio.estimate(), aMedianMs: medians.aMs, bMedianMs: medians.bMs, stoppedBy };
}
