import type { SqliteDatabase } from './openDatabase.js';

/**
 * Empties the write-ahead log into the database and truncates it to zero bytes, so erased rows do
 * not survive as older page copies in the -wal file (secure_delete zeroes them in the database
 * itself). False when a reader (the keys CLI) kept part of the log from being checkpointed: the
 * next checkpoint removes those frames.
 */
export function truncateWal(db: SqliteDatabase): boolean {
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  return result?.busy === 0;
}
