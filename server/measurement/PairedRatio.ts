/** How sure the interval is: 95%, as a two-sided normal quantile. */
const Z_95 = 1.959964;
/** Below this many pairs the order-statistic interval is not defined at 95%. */
export const MIN_PAIRS_FOR_INTERVAL = 6;

/** The speed-up of B over A (A's time / B's time; > 1: B is faster) with its 95% interval. */
export interface RatioEstimate {
  ratio: number;
  low: number;
  high: number;
  pairs: number;
}

/**
 * Timings of two alternatives run in pairs on the same input, one right after the other, so that
 * what the machine does meanwhile hits both alike. The estimate is the median of the pairs'
 * log-ratios and its interval the distribution-free one for a median (order statistics,
 * normal approximation to the binomial): a pause that hits one run of a pair (GC, another
 * process) moves one pair, not the estimate, and no shape of the noise is assumed.
 */
export class PairedRatio {
  private readonly logRatios: number[] = [];
  private readonly times: [number[], number[]] = [[], []];

  /** One pair: A's and B's time on the same input, in ms. A pair with a non-positive time is dropped (a timer too coarse to see the run). */
  add(aMs: number, bMs: number): void {
    if (!(aMs > 0 && bMs > 0)) return;
    this.logRatios.push(Math.log(aMs / bMs));
    this.times[0].push(aMs);
    this.times[1].push(bMs);
  }

  get pairs(): number {
    return this.logRatios.length;
  }

  /** Median time of A and of B over the pairs (the report's latencies). */
  medians(): { aMs: number; bMs: number } {
    return { aMs: median(this.times[0]), bMs: median(this.times[1]) };
  }

  /** null until there are MIN_PAIRS_FOR_INTERVAL pairs. */
  estimate(): RatioEstimate | null {
    const n = this.logRatios.length;
    if (n < MIN_PAIRS_FOR_INTERVAL) return null;
    const sorted = [...this.logRatios].sort((a, b) => a - b);
    const spread = (Z_95 * Math.sqrt(n)) / 2;
    // 1-based ranks of the interval's ends, clamped to the sample.
    const lowRank = Math.max(1, Math.floor(n / 2 - spread));
    const highRank = Math.min(n, Math.ceil(1 + n / 2 + spread));
    return { ratio: Math.exp(median(sorted, true)), low: Math.exp(sorted[lowRank - 1]!), high: Math.exp(sorted[highRank - 1]!), pairs: n };
  }
}

function median(values: number[], sorted = false): number {
  if (values.length === 0) return 0;
  const v = sorted ? values : [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
