import type { Migration } from './Migration.js';

/**
 * Model cards (issue 11): a card per model, and optionally one per version that overrides it (a
 * version whose inputs changed needs its own). Each table cascades from what it describes, so
 * deleting a version or a model takes its card with it. A prediction job keeps the card it was
 * submitted with (`jobs.card_json`): its rows were encoded with that card, and its results are
 * labelled with it even if the card is edited while it runs.
 */
export const migration010ModelCards: Migration = {
  version: 10,
  name: 'model_cards',
  up: `
    CREATE TABLE model_cards (
      model_name TEXT PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
      card_json  TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      updated_by TEXT
    );
    CREATE TABLE model_version_cards (
      model_name TEXT NOT NULL,
      version    TEXT NOT NULL,
      card_json  TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      updated_by TEXT,
      PRIMARY KEY (model_name, version),
      FOREIGN KEY (model_name, version) REFERENCES model_versions(model_name, version) ON DELETE CASCADE
    ) WITHOUT ROWID;
    ALTER TABLE jobs ADD COLUMN card_json TEXT;
  `,
};
