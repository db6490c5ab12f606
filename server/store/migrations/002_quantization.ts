import type { Migration } from './Migration.js';

/**
 * Quantized defaults (issue 3): which precision each version serves and whether the admin fixed
 * it, the int8 gate's report per version, validation samples per model and their opt-in recording.
 */
export const migration002Quantization: Migration = {
  version: 2,
  name: 'quantization',
  up: `
    ALTER TABLE model_versions ADD COLUMN served_precision TEXT NOT NULL DEFAULT 'fp32' CHECK (served_precision IN ('fp32', 'int8'));
    ALTER TABLE model_versions ADD COLUMN precision_override TEXT CHECK (precision_override IN ('fp32', 'int8'));
    CREATE TABLE quantization_reports (
      model_name  TEXT NOT NULL,
      version     TEXT NOT NULL,
      -- queued, running, done, failed
      status      TEXT NOT NULL,
      stage       TEXT,
      progress    REAL NOT NULL DEFAULT 0,
      report_json TEXT,
      updated_at  TEXT NOT NULL,
      PRIMARY KEY (model_name, version),
      FOREIGN KEY (model_name, version) REFERENCES model_versions(model_name, version) ON DELETE CASCADE
    );
    -- Version numbers only increase while a model exists, also past deleted versions.
    ALTER TABLE models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
    UPDATE models SET last_version = (SELECT COALESCE(MAX(CAST(version AS INTEGER)), 0) FROM model_versions WHERE model_name = models.name);
    -- Opt-in response cache per model (issue 4).
    ALTER TABLE models ADD COLUMN cache_enabled INTEGER NOT NULL DEFAULT 0;
    -- Opt-in recording of live request inputs as validation samples: how many to keep (0 = off).
    ALTER TABLE models ADD COLUMN sample_recording_limit INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE model_samples (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      model_name  TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
      source      TEXT NOT NULL CHECK (source IN ('uploaded', 'live')),
      inputs_json TEXT NOT NULL,
      created_at  TEXT NOT NULL
    );
    CREATE INDEX model_samples_model ON model_samples(model_name, id);
  `,
};
