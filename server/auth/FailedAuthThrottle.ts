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
  /** Requests with a key are refused until then (ms since the epoch). */
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
 * must wait (exponential back-off: while it waits every request with a key is refused with 429
 * without checking the key, and each one that ignores Retry-After counts as another failure), and
 * at a higher count it is blocked for a while. A successful authentication changes nothing: a
 * valid key from a blocked address is refused too, so guessing and then using a stolen key from
 * the same address gains nothing. Counts decay with a half-life; state is in memory only (a
 * restart forgets it). The check for an address that never failed is one Map lookup.
 */
export class FailedAuthThrottle {
  private readonly addresses = new Map<string, AddressState>();

  constructor(
    private readonly settings: () => FailedAuthSettings,
    private readonly onEvent: (event: FailedAuthEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Before the key is looked at: a refusal when the address must wait or is blocked. */
  refusal(address: string): AuthRefusal | null {
    const state = this.addresses.get(address);
    if (state === undefined) return null;
    const now = this.now();
    if (now >= state.until) return null;
    if (!state.blocked) this.strike(address, state, now); // a retry that ignored Retry-After
    return { state: state.blocked ? 'blocked' : 'backoff', retryAfterSeconds: Math.max(1, Math.ceil((state.until - now) / 1000)) };
  }

  /** A missing, unknown, revoked or expired key from the address. */
  recordFailure(address: string): void {
    let state = this.addresses.get(address);
    if (state === undefined) {
      if (this.addresses.size >= MAX_TRACKED) this.forgetOne();
      state = { score: 0, at: this.now(), until: 0, blocked: false, backoffReported: false };
      this.addresses.set(address, state);
    }
    this.strike(address, state, this.now());
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
