import { setTimeout as sleep } from 'node:timers/promises';

export interface YieldOptions {
  /** Starvation guard: after waiting this long the background work runs anyway (a small step). */
  maxWaitMs: number;
  pollMs: number;
  signal: AbortSignal;
}

/**
 * Waits while interactive requests are in flight, so background work gives way to them. Returns
 * true when none are left, false when the starvation guard ran out (or the wait was aborted), in
 * which case the caller should take only a small step before asking again.
 */
export async function yieldToInteractive(inFlight: () => number, options: YieldOptions): Promise<boolean> {
  const deadline = Date.now() + options.maxWaitMs;
  while (inFlight() > 0) {
    if (options.signal.aborted || Date.now() >= deadline) return false;
    try {
      await sleep(options.pollMs, undefined, { signal: options.signal });
    } catch {
      return false; // aborted: the caller checks its signal
    }
  }
  return true;
}
