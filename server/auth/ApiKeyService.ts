import { performance } from 'node:perf_hooks';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** Whether a key works now: the one rule for `authenticate`, `GET /api/keys`, the Keys page and `keys list`. */
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

export class ApiKeyService {
  /** Last-used times waiting to be written with the next flush, so requests never wait on a write. */
  private readonly lastUsed = new Map<string, string>();
  /**
   * Rows of keys that exist (unknown ids are never kept, so guessing cannot grow it). This
   * service's own writes drop the row; a commit by another process (the `keys` CLI revoking a key
   * while the server runs) empties the cache at the next check.
   */
  private readonly rows = new Map<string, ApiKeyRow>();
  private seenExternalChanges: number | undefined;
  private checkedExternalAt = -Infinity;

  constructor(private readonly keys: ApiKeyRepository, private readonly now: () => Date = () => new Date()) {}

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
    return { row, key };
  }

  /**
   * Checks a bearer key against its stored hash, revocation and expiry. Rows are cached (reading
   * and parsing one per request was a fifth of the HTTP thread's time under load); a revocation
   * through this service applies to the very next request, one by another process within
   * EXTERNAL_CHECK_MS.
   */
  authenticate(key: string | undefined): Principal {
    if (key === undefined) throw inferboxError('IBX_ERR_UNAUTHENTICATED', 'an API key is required: send Authorization: Bearer <key>');
    const match = KEY_FORMAT.exec(key);
    const row = match ? this.findRow(match[1]!) : undefined;
    const expected = Buffer.from(row?.key_hash ?? hashKey('no such key'), 'hex');
    const matches = timingSafeEqual(expected, Buffer.from(hashKey(key), 'hex'));
    if (!row || !matches) throw inferboxError('IBX_ERR_UNAUTHENTICATED', 'the API key is not valid');
    if (row.revoked_at !== null) throw inferboxError('IBX_ERR_UNAUTHENTICATED', 'the API key has been revoked');
    const now = this.now();
    if (isExpired(row, now)) throw inferboxError('IBX_ERR_UNAUTHENTICATED', 'the API key has expired');
    this.lastUsed.set(row.id, now.toISOString());
    return { keyId: row.id, name: row.name, scopes: row.scopes, rateLimit: { perSecond: row.rate_limit_per_second, burst: row.rate_limit_burst } };
  }

  private findRow(id: string): ApiKeyRow | undefined {
    const now = performance.now();
    if (now - this.checkedExternalAt >= EXTERNAL_CHECK_MS) {
      this.checkedExternalAt = now;
      const changes = this.keys.externalChanges();
      if (changes !== this.seenExternalChanges) {
        this.rows.clear();
        this.seenExternalChanges = changes;
      }
    }
    const cached = this.rows.get(id);
    if (cached) return cached;
    const row = this.keys.findById(id);
    if (row) this.rows.set(id, row);
    return row;
  }

  list(): ApiKeyView[] {
    return this.keys.list().map((row) => this.viewOf(row));
  }

  viewOf({ key_hash: _hash, ...visible }: ApiKeyRow): ApiKeyView {
    return { ...visible, status: keyStatus(visible, this.now()) };
  }

  revoke(id: string): void {
    this.rows.delete(id);
    if (!this.keys.revoke(id, this.now().toISOString())) throw inferboxError('IBX_ERR_KEY_NOT_FOUND', id);
  }

  /** Sets a key's own rate limit; the next request of the key uses it (its cached row is dropped). */
  setRateLimit(id: string, limit: OwnRateLimit): ApiKeyView {
    this.rows.delete(id);
    if (!this.keys.setRateLimit(id, limit.perSecond, limit.burst)) throw inferboxError('IBX_ERR_KEY_NOT_FOUND', id);
    return this.viewOf(this.keys.findById(id)!);
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
