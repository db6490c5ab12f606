import Database from 'better-sqlite3';
import { migrate, refuseNewerSchema } from './migrate.js';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the appliance database and migrates it. WAL lets the CLI read and
 * write while the server runs; busy_timeout covers the short write locks that causes.
 */
export function openDatabase(path: string): SqliteDatabase {
  const db = new Database(path);
  // Before any pragma that writes (journal_mode changes the file header): a newer Inferbox's database stays byte-for-byte as it was.
  try {
    refuseNewerSchema(db);
  } catch (error) {
    db.close();
    throw error;
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Deleted rows are overwritten with zeros, also on pages that go to the freelist: an erased or
  // expired payload (personal data, right to erasure) and a finished job's inputs must not stay
  // readable in the file (test/security/noSecretsInLogs, PayloadService tests).
  db.pragma('secure_delete = ON');
  migrate(db);
  return db;
}
