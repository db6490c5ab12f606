/**
 * Error codes that mean "the file system has no room": ENOSPC (disk full), EDQUOT (the user's
 * quota), and SQLite's SQLITE_FULL (better-sqlite3's `SqliteError.code`), which SQLite reports
 * when a page write to the database or its WAL fails with either of the first two.
 */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether `error` (or an error it wraps as `cause`) says the disk or quota is full. */
export function isDiskFull(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) return true;
  }
  return false;
}
