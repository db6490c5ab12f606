import type BetterSqlite3 from 'better-sqlite3';
import { InferboxError } from '../common/errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Migration } from './migrations/Migration.js';

/** A database written by a newer Inferbox: refused before anything writes to it (not even the journal mode). */
export class SchemaTooNewError extends InferboxError {
  constructor(readonly found: number, readonly latest: number) {
    super('IBX_ERR_SCHEMA_TOO_NEW', [found, latest]);
  }
}

/** The newest schema version this build knows (versions are numbered per issue, so not the count). */
export function latestSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

/** Throws SchemaTooNewError for a database newer than `migrations`; reading user_version writes nothing. */
export function refuseNewerSchema(db: BetterSqlite3.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  const latest = latestSchemaVersion(migrations);
  if (found > latest) throw new SchemaTooNewError(found, latest);
  return found;
}

/**
 * Brings the database up to the newest schema. The version lives in PRAGMA user_version;
 * each migration and its version bump commit together, so a crash never leaves half a migration.
 * A database from a newer Inferbox is refused rather than touched.
 */
export function migrate(db: BetterSqlite3.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = refuseNewerSchema(db, migrations);
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      db.exec(migration.up);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return { from, to: Math.max(from, latestSchemaVersion(migrations)) };
}
