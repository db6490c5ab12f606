import { performance } from 'node:perf_hooks';

/** A key's own limit as stored: null fields follow the server default. */
export interface OwnRateLimit {
  /** Requests per second; 0 = unlimited. */
  perSecond: number | null;
  /** Requests at once above the rate (the bucket's size). */
  burst: number | null;
}

/** The limit that applies to a request. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export function resolveRateLimit(own: OwnRateLimit, serverDefault: RateLimit): RateLimit {
  return { perSecond: own.perSecond ?? serverDefault.perSecond, burst: own.burst ?? serverDefault.burst };
}

/**
 * Per-key token buckets, in memory: a bucket holds up to `burst` tokens and refills at
 * `perSecond`; a request takes one. Hand-written rather than a package (rate-limiter-flexible,
 * limiter) because the check runs on every request at ~13k req/s: this is one Map lookup and a few
 * float operations, synchronous, with no promise or timer per request, and the limit is passed in
 * per call so a changed limit applies to the next request without resetting anything.
 * Bounded: buckets exist only for keys that authenticated (at most one per key row).
 */
export class KeyRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes a token for the key: 0 when the request may go on, else the seconds until a token is there. */
  take(keyId: string, limit: RateLimit): number {
    if (limit.perSecond <= 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(keyId);
    if (!bucket) {
      this.buckets.set(keyId, { tokens: limit.burst - 1, at: now });
      return 0;
    }
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / limit.perSecond;
  }
}
