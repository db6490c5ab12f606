/** How failed authentication from one address is slowed down and blocked (server settings `auth_*`). */
export interface FailedAuthSettings {
  /** Failures an address may make before it must wait. */
  failuresBeforeBackoff: number;
  /** The first wait; each further failure doubles it, up to backoffMaxSeconds. */
  backoffInitialSeconds: number;
  backoffMaxSeconds: number;
  /** At this many failures the address is blocked for blockSeconds. */
  blockAfterFailures: number;
  blockSeconds: number;
  /** Failures are forgotten gradually: the count halves every this many seconds. */
  halfLifeSeconds: number;
}

/** Written to the audit log: once when an address starts backing off, once when it is blocked. */
export interface FailedAuthEvent {
  kind: 'backoff' | 'block';
  address: string;
  failures: number;
  seconds: number;
}

export interface AuthRefusal {
  state: 'backoff' | 'blocked';
  retryAfterSeconds: number;
}

export interface ThrottledAddress {
  address: string;
  state: 'backoff' | 'blocked';
  /** The decayed failure count, rounded. */
  failures: number;
  until: string;
}

interface AddressState {
  /** Failures, decayed to `at`. */
  score: number;
  at: number;
  /** Failing requests are refused until then (ms since the epoch). */
  until: number;
  blocked: boolean;
  /** Whether this back-off streak was already audited (one row per streak, not per failure). */
  backoffReported: boolean;
}

/**
 * Most addresses tracked at once: each failing address costs a small object, so a flood from many
 * addresses (IPv6 gives an attacker plenty) must not grow memory without bound. Beyond it the
 * oldest entry is forgotten: such a flood defeats per-address throttling anyway.
 */
const MAX_TRACKED = 10_000;

/**
 * Slows down guessing keys, per client address: after a few failed authentications the address
 * must wait (exponential back-off: while it waits every failing request is refused with 429, and
 * each one that ignores Retry-After counts as another failure), and at a higher count it is blocked
 * for a while. Only failing requests are throttled: a valid key is served whatever its address's
 * state, because one client with a revoked key (a cron job retrying) must not lock out every other
 * app behind the same NAT or proxy, or the admin on loopback, and a 256-bit key cannot be guessed
 * anyway. Counts decay with a half-life; state is in memory only (a restart forgets it).
 */
export class FailedAuthThrottle {
  private readonly addresses = new Map<string, AddressState>();

  constructor(
    private readonly settings: () => FailedAuthSettings,
    private readonly onEvent: (event: FailedAuthEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A missing, unknown, revoked or expired key from the address. Null when the failure may be
   * answered as what it is (401); a refusal (429) when the address was already waiting (this retry
   * ignored Retry-After, and counts) or blocked (retries during a block do not extend it).
   */
  recordFailure(address: string): AuthRefusal | null {
    const now = this.now();
    let state = this.addresses.get(address);
    if (state === undefined) {
      if (this.addresses.size >= MAX_TRACKED) this.forgetOne();
      state = { score: 0, at: now, until: 0, blocked: false, backoffReported: false };
      this.addresses.set(address, state);
    }
    const waiting = now < state.until;
    if (!(waiting && state.blocked)) this.strike(address, state, now);
    if (!waiting) return null;
    return { state: state.blocked ? 'blocked' : 'backoff', retryAfterSeconds: Math.max(1, Math.ceil((state.until - now) / 1000)) };
  }

  /** Addresses now waiting or blocked, the most recently tracked first. */
  list(): ThrottledAddress[] {
    const now = this.now();
    return [...this.addresses]
      .filter(([, s]) => s.until > now)
      .map(([address, s]) => ({ address, state: s.blocked ? ('blocked' as const) : ('backoff' as const), failures: Math.round(this.decayed(s, now)), until: new Date(s.until).toISOString() }))
      .reverse();
  }

  /** Forgets an address entirely (the admin's unblock); false when it was not tracked. */
  unblock(address: string): boolean {
    return this.addresses.delete(address);
  }

  private decayed(state: AddressState, now: number): number {
    return state.score * 2 ** (-(now - state.at) / (this.settings().halfLifeSeconds * 1000));
  }

  private strike(address: string, state: AddressState, now: number): void {
    const s = this.settings();
    state.score = this.decayed(state, now) + 1;
    state.at = now;
    // Whole failures: failures a moment apart have decayed by a hair, and must still add up.
    const failures = Math.round(state.score);
    if (state.blocked) {
      if (now < state.until) return;
      state.blocked = false;
    }
    if (failures >= s.blockAfterFailures) {
      state.blocked = true;
      state.until = now + s.blockSeconds * 1000;
      state.backoffReported = false; // a back-off after the block is a new streak
      this.onEvent({ kind: 'block', address, failures, seconds: s.blockSeconds });
      return;
    }
    if (failures < s.failuresBeforeBackoff) {
      state.backoffReported = false;
      return;
    }
    const seconds = Math.min(s.backoffMaxSeconds, s.backoffInitialSeconds * 2 ** (failures - s.failuresBeforeBackoff));
    state.until = Math.max(state.until, now + seconds * 1000);
    if (!state.backoffReported) {
      state.backoffReported = true;
      this.onEvent({ kind: 'backoff', address, failures, seconds });
    }
  }

  /**
   * Frees room: among the oldest few entries one whose failures have decayed and that is not
   * waiting, else the oldest. Only a few are looked at, so a flood of new addresses costs no scan
   * of the whole map per request.
   */
  private forgetOne(): void {
    const now = this.now();
    let looked = 0;
    for (const [address, state] of this.addresses) {
      if (state.until <= now && this.decayed(state, now) < 1) {
        this.addresses.delete(address);
        return;
      }
      if (++looked >= 64) break;
    }
    this.addresses.delete(this.addresses.keys().next().value!);
  }
}
