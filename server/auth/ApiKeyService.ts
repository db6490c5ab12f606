import { performance } from 'node:perf_hooks';
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { inferboxError } from '../common/errors.js';
import type { ApiKeyRepository, ApiKeyRow } from '../store/ApiKeyRepository.js';
import type { OwnRateLimit } from './KeyRateLimiter.js';

/** The caller a request was authenticated as. */
export interface Principal {
  keyId: string;
  name: string;
  scopes: string[];
  /** The key's own rate limit; the server default fills in what it leaves null. */
  rateLimit: OwnRateLimit;
}

/**
 * A refused key, with the 401's message: a value, not an error, so a flood of bad keys costs no
 * stack traces (the caller makes the one error it answers with: 401, or 429 while throttled).
 */
export interface KeyRefusal {
  refused: string;
}

const MISSING: KeyRefusal = { refused: 'an API key is required: send Authorization: Bearer <key>' };
const NOT_VALID: KeyRefusal = { refused: 'the API key is not valid' };
const REVOKED: KeyRefusal = { refused: 'the API key has been revoked' };
const EXPIRED: KeyRefusal = { refused: 'the API key has expired' };

export interface CreatedApiKey {
  row: ApiKeyRow;
  /** The only time the raw key exists outside the caller's hands. */
  key: string;
}

/**
 * Keys look like `ibx_<id>_<secret>`: the id finds the row without scanning, the 256-bit secret
 * makes brute force hopeless, so a fast SHA-256 is the right hash (no bcrypt on the inference path).
 */
const KEY_FORMAT = /^ibx_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newKeyId(): string {
  return randomBytes(8).toString('hex').slice(0, 12);
}

const isExpired = (row: Pick<ApiKeyRow, 'expires_at'>, now: Date) => row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime();

/** Whether a key works now: the one rule for `verify`, `GET /api/keys`, the Keys page and `keys list`. */
export type KeyStatus = 'active' | 'expired' | 'revoked';

export function keyStatus(row: Pick<ApiKeyRow, 'revoked_at' | 'expires_at'>, now: Date): KeyStatus {
  if (row.revoked_at !== null) return 'revoked';
  return isExpired(row, now) ? 'expired' : 'active';
}

/** A key as the API and the CLI show it: no hash, with its status now. */
export type ApiKeyView = Omit<ApiKeyRow, 'key_hash'> & { status: KeyStatus };

/**
 * How often the database is asked whether another process committed (the pragma costs as much as
 * the lookup it saves): a key revoked with the `keys` CLI while the server runs stops working
 * within this time; one revoked through the API, at once.
 */
const EXTERNAL_CHECK_MS = 100;

/** A key row as authentication needs it, with its hash already decoded for the constant-time compare. */
interface KnownKey {
  row: ApiKeyRow;
  hash: Buffer;
}

const knownKey = (row: ApiKeyRow): KnownKey => ({ row, hash: Buffer.from(row.key_hash, 'hex') });

/** Compared against when the id is unknown or the key malformed, so every refusal costs one compare. */
const NO_SUCH_KEY_HASH = Buffer.from(hashKey('no such key'), 'hex');

export class ApiKeyService {
  /** Last-used times waiting to be written with the next flush, so requests never wait on a write. */
  private readonly lastUsed = new Map<string, string>();
  /**
   * Every key row, by id, loaded at start: an unknown id must cost what a known one costs (a
   * database lookup on a miss made unknown ids 30-58 µs slower, which told a caller which ids
   * exist). Bounded by the key table, not by what callers send. This service's own writes update
   * their row; a commit by another process (the `keys` CLI revoking a key while the server runs)
   * reloads them all at the next check.
   */
  private known = new Map<string, KnownKey>();
  private seenExternalChanges: number | undefined;
  private checkedExternalAt = -Infinity;

  constructor(private readonly keys: ApiKeyRepository, private readonly now: () => Date = () => new Date()) {
    this.checkExternalChanges(performance.now());
  }

  createApiKey(input: { name: string; scopes: string[]; expiresAt?: string | null | undefined; rateLimit?: OwnRateLimit | undefined }): CreatedApiKey {
    const id = newKeyId();
    const key = `ibx_${id}_${randomBytes(32).toString('base64url')}`;
    const row: ApiKeyRow = {
      id,
      name: input.name,
      key_hash: hashKey(key),
      scopes: [...new Set(input.scopes)],
      created_at: this.now().toISOString(),
      last_used_at: null,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      rate_limit_per_second: input.rateLimit?.perSecond ?? null,
      rate_limit_burst: input.rateLimit?.burst ?? null,
    };
    this.keys.insert(row);
    this.remember(row);
    return { row, key };
  }

  /**
   * Checks a bearer key against its stored hash, revocation and expiry, in memory only. A malformed
   * key, an unknown id and a wrong secret take the same path: one SHA-256, one Map lookup, one
   * constant-time compare (against a stand-in hash when there is no row). A revocation through this
   * service applies to the very next request, one by another process within EXTERNAL_CHECK_MS.
   */
  verify(key: string | undefined): Principal | KeyRefusal {
    if (key === undefined) return MISSING;
    const match = KEY_FORMAT.exec(key);
    const known = this.find(match?.[1]);
    // crypto.hash (one call, no Hash object) is about half the cost of createHash for a key this short.
    const matches = timingSafeEqual(known?.hash ?? NO_SUCH_KEY_HASH, hash('sha256', key, 'buffer'));
    if (!known || !matches) return NOT_VALID;
    const { row } = known;
    if (row.revoked_at !== null) return REVOKED;
    const now = this.now();
    if (isExpired(row, now)) return EXPIRED;
    this.lastUsed.set(row.id, now.toISOString());
    return { keyId: row.id, name: row.name, scopes: row.scopes, rateLimit: { perSecond: row.rate_limit_per_second, burst: row.rate_limit_burst } };
  }

  private find(id: string | undefined): KnownKey | undefined {
    const now = performance.now();
    if (now - this.checkedExternalAt >= EXTERNAL_CHECK_MS) this.checkExternalChanges(now);
    // A malformed key looks up '' (never an id), so it too pays for one lookup.
    return this.known.get(id ?? '');
  }

  /** Reloads every row when another connection committed since the last look. */
  private checkExternalChanges(now: number): void {
    this.checkedExternalAt = now;
    const changes = this.keys.externalChanges();
    if (changes === this.seenExternalChanges) return;
    this.seenExternalChanges = changes;
    this.known = new Map(this.keys.list().map((row) => [row.id, knownKey(row)]));
  }

  private remember(row: ApiKeyRow): void {
    this.known.set(row.id, knownKey(row));
  }

  list(): ApiKeyView[] {
    return this.keys.list().map((row) => this.viewOf(row));
  }

  viewOf({ key_hash: _hash, ...visible }: ApiKeyRow): ApiKeyView {
    return { ...visible, status: keyStatus(visible, this.now()) };
  }

  revoke(id: string): void {
    if (!this.keys.revoke(id, this.now().toISOString())) throw inferboxError('IBX_ERR_KEY_NOT_FOUND', id);
    // Re-read rather than set here: revoking twice keeps the first time, as the database does.
    this.remember(this.keys.findById(id)!);
  }

  /** Sets a key's own rate limit; the next request of the key uses it. */
  setRateLimit(id: string, limit: OwnRateLimit): ApiKeyView {
    if (!this.keys.setRateLimit(id, limit.perSecond, limit.burst)) throw inferboxError('IBX_ERR_KEY_NOT_FOUND', id);
    const row = this.keys.findById(id)!;
    this.remember(row);
    return this.viewOf(row);
  }

  /** True when some admin key can still be used (not revoked, not expired). */
  hasUsableAdminKey(): boolean {
    const now = this.now();
    return this.keys.list().some((k) => k.scopes.includes('admin') && keyStatus(k, now) === 'active');
  }

  flushLastUsed(): void {
    if (this.lastUsed.size === 0) return;
    const batch = new Map(this.lastUsed);
    this.lastUsed.clear();
    this.keys.touchLastUsed(batch);
  }
}
