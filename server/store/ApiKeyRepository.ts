import type { SqliteDatabase } from './openDatabase.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  /** SHA-256 of the whole key, hex. The raw key is never stored. */
  key_hash: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  /** Requests per second this key may make; null = the server default, 0 = unlimited. */
  rate_limit_per_second: number | null;
  /** Requests the key may make at once above its rate (token-bucket size); null = the server default. */
  rate_limit_burst: number | null;
}

interface ApiKeyRecord extends Omit<ApiKeyRow, 'scopes'> {
  scopes_json: string;
}

const fromRecord = ({ scopes_json, ...rest }: ApiKeyRecord): ApiKeyRow => ({ ...rest, scopes: JSON.parse(scopes_json) as string[] });

export class ApiKeyRepository {
  private readonly byId;
  private readonly dataVersion;

  constructor(private readonly db: SqliteDatabase) {
    // data_version is asked up to every 100 ms by ApiKeyService, and a row re-read after each change it makes: keep both prepared.
    this.byId = db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /**
   * Changes whenever another connection (another process: `npm run keys`) commits to the
   * database; this connection's own writes do not change it. Lets a cache of key rows stay exact.
   */
  externalChanges(): number {
    return this.dataVersion.get() as number;
  }

  insert(row: ApiKeyRow): void {
    const { scopes, ...rest } = row;
    this.db
      .prepare(
        `INSERT INTO api_keys (id, name, key_hash, scopes_json, created_at, last_used_at, expires_at, revoked_at, rate_limit_per_second, rate_limit_burst)
         VALUES (@id, @name, @key_hash, @scopes_json, @created_at, @last_used_at, @expires_at, @revoked_at, @rate_limit_per_second, @rate_limit_burst)`,
      )
      .run({ ...rest, scopes_json: JSON.stringify(scopes) });
  }

  findById(id: string): ApiKeyRow | undefined {
    const row = this.byId.get(id) as ApiKeyRecord | undefined;
    return row ? fromRecord(row) : undefined;
  }

  list(): ApiKeyRow[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as ApiKeyRecord[]).map(fromRecord);
  }

  /** Marks a key revoked; returns false when there is no such key. Revoking twice keeps the first time. */
  revoke(id: string, at: string): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id).changes > 0;
  }

  /** Sets a key's own rate limit (null fields follow the server default); returns false when there is no such key. */
  setRateLimit(id: string, perSecond: number | null, burst: number | null): boolean {
    return this.db.prepare('UPDATE api_keys SET rate_limit_per_second = ?, rate_limit_burst = ? WHERE id = ?').run(perSecond, burst, id).changes > 0;
  }

  /** Writes last-used times collected in memory, in one transaction (keeps writes off the hot path). */
  touchLastUsed(times: ReadonlyMap<string, string>): void {
    const update = this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const [id, at] of times) update.run(at, id);
    })();
  }
}
