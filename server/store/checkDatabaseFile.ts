import Database from 'better-sqlite3';
import { messageOf } from '../common/errors.js';
import { SchemaTooNewError, latestSchemaVersion, migrate, refuseNewerSchema } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Migration } from './migrations/Migration.js';

/** Table name → its column names. */
type Schema = Map<string, Set<string>>;

function schemaOf(db: Database.Database): Schema {
  const schema: Schema = new Map();
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
  for (const table of tables) {
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];
    schema.set(table, new Set(columns));
  }
  return schema;
}

/** The tables and columns `migrations` up to `version` create, built in an empty in-memory database. */
function expectedSchema(version: number, migrations: readonly Migration[]): Schema {
  const db = new Database(':memory:');
  try {
    migrate(db, migrations.filter((m) => m.version <= version));
    return schemaOf(db);
  } finally {
    db.close();
  }
}

/** What `actual` lacks of `expected` ("" when nothing): a missing table or column. Extra ones are allowed. */
function missingFrom(actual: Schema, expected: Schema): string {
  const missingTables = [...expected.keys()].filter((t) => !actual.has(t));
  if (missingTables.length > 0) {
    const shown = missingTables.slice(0, 5).join(', ');
    return `${missingTables.length} of its ${expected.size} tables are missing (${shown}${missingTables.length > 5 ? ', …' : ''})`;
  }
  for (const [table, columns] of expected) {
    const missing = [...columns].filter((c) => !actual.get(table)!.has(c));
    if (missing.length > 0) return `table ${table} lacks column(s) ${missing.join(', ')}`;
  }
  return '';
}

/** `problem` completes "its database …" (e.g. "fails its integrity check (…)"); null when the file passed. */
export type DatabaseFileCheck = { version: number; problem: null } | { version: number | null; problem: string };

/**
 * Whether the SQLite file at `path` is a whole Inferbox database this build can open and serve,
 * checked without changing it (a restore runs this before it replaces anything): it opens, its
 * schema version is not newer than this build (SchemaTooNewError, thrown) and not 0 (no Inferbox
 * schema), `PRAGMA integrity_check` passes, it has every table and column the migrations up to its
 * version create, and the remaining migrations apply to it (tried inside a transaction that is
 * rolled back; better-sqlite3 nests each migration's transaction as a savepoint) leaving every
 * table of the newest schema. `user_version` alone proves nothing: an empty file can carry any.
 */
export function checkDatabaseFile(path: string, migrations: readonly Migration[] = MIGRATIONS): DatabaseFileCheck {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    return { version: null, problem: `does not open (${messageOf(error)})` };
  }
  try {
    let version: number;
    try {
      version = refuseNewerSchema(db, migrations);
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw error; // the caller says "made by a newer Inferbox"
      return { version: null, problem: `is not an SQLite database (${messageOf(error)})` };
    }
    if (version < 1) return { version, problem: 'holds no Inferbox schema (user_version 0)' };
    let integrity: string[];
    try {
      integrity = db.prepare('PRAGMA integrity_check(20)').pluck().all() as string[];
    } catch (error) {
      return { version, problem: `fails its integrity check (${messageOf(error)})` };
    }
    if (integrity.length !== 1 || integrity[0] !== 'ok') return { version, problem: `fails its integrity check (${integrity.slice(0, 3).join('; ')})` };

    const missing = missingFrom(schemaOf(db), expectedSchema(version, migrations));
    if (missing) return { version, problem: `is not a complete schema-${version} Inferbox database: ${missing}` };

    const latest = latestSchemaVersion(migrations);
    if (version < latest) {
      // As openDatabase migrates (foreign keys on); the pragma must precede BEGIN to take effect.
      db.pragma('foreign_keys = ON');
      db.exec('BEGIN');
      try {
        migrate(db, migrations);
        const after = missingFrom(schemaOf(db), expectedSchema(latest, migrations));
        if (after) return { version, problem: `is not complete after migrating it from schema ${version} to ${latest}: ${after}` };
      } catch (error) {
        return { version, problem: `cannot be migrated from schema ${version} to ${latest} (${messageOf(error)})` };
      } finally {
        if (db.inTransaction) db.exec('ROLLBACK');
      }
    }
    return { version, problem: null };
  } finally {
    db.close();
  }
}
