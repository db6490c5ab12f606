import type { Migration } from './Migration.js';

/** The first schema: models and versions, API keys, request log, audit log, settings. */
export const migration001Initial: Migration = {
  version: 1,
  name: 'initial',
  up: `
    CREATE TABLE models (
      name           TEXT PRIMARY KEY,
      active_version TEXT,
      created_at     TEXT NOT NULL
    );
    CREATE TABLE model_versions (
      model_name   TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
      version      TEXT NOT NULL,
      -- 'loaded' or 'unloaded': what the admin asked for; restored on the next start.
      desired_state TEXT NOT NULL CHECK (desired_state IN ('loaded', 'unloaded')),
      file_path    TEXT NOT NULL,
      sha256       TEXT NOT NULL,
      size_bytes   INTEGER NOT NULL,
      opset        INTEGER,
      ir_version   INTEGER,
      producer     TEXT,
      inputs_json  TEXT NOT NULL,
      outputs_json TEXT NOT NULL,
      created_at   TEXT NOT NULL,
      created_by   TEXT,
      PRIMARY KEY (model_name, version)
    );
    CREATE TABLE api_keys (
      id           TEXT PRIMARY KEY,
      name         TEXT NOT NULL,
      key_hash     TEXT NOT NULL,
      scopes_json  TEXT NOT NULL,
      created_at   TEXT NOT NULL,
      last_used_at TEXT,
      expires_at   TEXT,
      revoked_at   TEXT
    );
    CREATE TABLE request_log (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      ts          TEXT NOT NULL,
      request_id  TEXT,
      model       TEXT,
      version     TEXT,
      key_id      TEXT,
      status      INTEGER NOT NULL,
      error       TEXT,
      total_ms    REAL NOT NULL,
      queue_ms    REAL,
      infer_ms    REAL,
      bytes_in    INTEGER NOT NULL,
      bytes_out   INTEGER NOT NULL
    );
    CREATE INDEX request_log_ts ON request_log(ts);
    CREATE INDEX request_log_model_ts ON request_log(model, ts);
    CREATE TABLE audit_log (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      ts         TEXT NOT NULL,
      actor_id   TEXT,
      actor_name TEXT NOT NULL,
      action     TEXT NOT NULL,
      target     TEXT,
      details_json TEXT,
      remote_addr TEXT
    );
    CREATE INDEX audit_log_ts ON audit_log(ts);
    CREATE TABLE settings (
      key        TEXT PRIMARY KEY,
      value_json TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
