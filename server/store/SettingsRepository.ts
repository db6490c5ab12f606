import type { SqliteDatabase } from './openDatabase.js';

/** Key/value settings saved by the admin; values are JSON. Meaning and defaults live in server/config. */
export class SettingsRepository {
  constructor(private readonly db: SqliteDatabase) {}

  getAll(): Record<string, unknown> {
    const rows = this.db.prepare('SELECT key, value_json FROM settings').all() as { key: string; value_json: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value_json) as unknown]));
  }

  /** Saves the given keys in one transaction; `undefined` removes a key (back to its default). */
  setMany(values: Record<string, unknown>, at: string): void {
    const upsert = this.db.prepare(
      'INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at',
    );
    const remove = this.db.prepare('DELETE FROM settings WHERE key = ?');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined) remove.run(key);
        else upsert.run(key, JSON.stringify(value), at);
      }
    })();
  }
}
