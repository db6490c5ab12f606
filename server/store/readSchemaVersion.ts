import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { refuseNewerSchema } from './migrate.js';

/**
 * The schema version of the database at `path` (null when there is none yet), read without
 * changing the file; throws SchemaTooNewError for a newer Inferbox's database. Lets the server take
 * its pre-migration backup before `Store.open` migrates.
 */
export function readSchemaVersion(path: string): number | null {
  if (!existsSync(path)) return null;
  const db = new Database(path, { fileMustExist: true });
  try {
    return refuseNewerSchema(db);
  } finally {
    db.close();
  }
}
