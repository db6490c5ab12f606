import Database from 'better-sqlite3';
import { refuseNewerSchema } from './migrate.js';

/**
 * Copies a database no server has open (before migrating it, or for a backup of a stopped server)
 * with SQLite's online backup, without migrating or otherwise changing it: opening and closing
 * leaves the file as it was (checked in the tests). Returns the copy's schema version; a database
 * from a newer Inferbox is refused first.
 */
export async function snapshotDatabase(source: string, destination: string): Promise<number> {
  const db = new Database(source, { fileMustExist: true });
  try {
    const version = refuseNewerSchema(db);
    await db.backup(destination);
    return version;
  } finally {
    db.close();
  }
}
