import type { SqliteDatabase } from './openDatabase.js';

/** A stored card: its JSON (the schema is server/predict's), who saved it and when. */
export interface ModelCardRow {
  card: unknown;
  /** null: the model's card; a version: that version's own card. */
  version: string | null;
  updated_at: string;
  updated_by: string | null;
}

interface RawRow {
  card_json: string;
  version: string | null;
  updated_at: string;
  updated_by: string | null;
}

const fromRaw = (row: RawRow): ModelCardRow => ({ card: JSON.parse(row.card_json) as unknown, version: row.version, updated_at: row.updated_at, updated_by: row.updated_by });

/** Model cards: one per model, optionally one per version that overrides it. */
export class ModelCardRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** The card that applies to a version: its own, else the model's, else undefined. */
  effective(model: string, version: string): ModelCardRow | undefined {
    return this.ofVersion(model, version) ?? this.ofModel(model);
  }

  ofModel(model: string): ModelCardRow | undefined {
    const row = this.db.prepare('SELECT card_json, NULL AS version, updated_at, updated_by FROM model_cards WHERE model_name = ?').get(model) as RawRow | undefined;
    return row ? fromRaw(row) : undefined;
  }

  ofVersion(model: string, version: string): ModelCardRow | undefined {
    const row = this.db.prepare('SELECT card_json, version, updated_at, updated_by FROM model_version_cards WHERE model_name = ? AND version = ?').get(model, version) as RawRow | undefined;
    return row ? fromRaw(row) : undefined;
  }

  /** Versions of the model that have a card of their own. */
  versionsWithOwnCard(model: string): string[] {
    return (this.db.prepare('SELECT version FROM model_version_cards WHERE model_name = ?').all(model) as { version: string }[]).map((r) => r.version);
  }

  /** Saves the model's card (version null) or a version's own card, replacing the one there. */
  put(model: string, version: string | null, card: unknown, at: string, by: string | null): void {
    const json = JSON.stringify(card);
    if (version === null) {
      this.db
        .prepare('INSERT INTO model_cards (model_name, card_json, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT (model_name) DO UPDATE SET card_json = excluded.card_json, updated_at = excluded.updated_at, updated_by = excluded.updated_by')
        .run(model, json, at, by);
    } else {
      this.db
        .prepare('INSERT INTO model_version_cards (model_name, version, card_json, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model_name, version) DO UPDATE SET card_json = excluded.card_json, updated_at = excluded.updated_at, updated_by = excluded.updated_by')
        .run(model, version, json, at, by);
    }
  }

  /** Removes the model's card (version null) or a version's own card; false when there was none. */
  delete(model: string, version: string | null): boolean {
    const statement = version === null ? this.db.prepare('DELETE FROM model_cards WHERE model_name = ?') : this.db.prepare('DELETE FROM model_version_cards WHERE model_name = ? AND version = ?');
    return (version === null ? statement.run(model) : statement.run(model, version)).changes > 0;
  }
}
