import type { Migration } from './Migration.js';

/**
 * Pipeline-friendly model API (issue 9): labels and training metrics per model version, set when
 * the version is registered; webhook endpoints and their deliveries. Deliveries are rows, not
 * in-memory timers, so a restart resumes what was pending (numbered 012: 009–011 belong to other
 * parts of the issue).
 */
export const migration012Pipeline: Migration = {
  version: 12,
  name: 'pipeline',
  up: `
    -- {"git_commit": "…", "dataset": "…"} and {"accuracy": 0.97}; existing versions have none.
    ALTER TABLE model_versions ADD COLUMN labels_json TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE model_versions ADD COLUMN metrics_json TEXT NOT NULL DEFAULT '{}';

    CREATE TABLE webhooks (
      id          TEXT PRIMARY KEY,
      url         TEXT NOT NULL,
      -- Kept as is: the server signs every delivery with it (a hash would not do).
      secret      TEXT NOT NULL,
      -- Event types the endpoint receives (JSON array).
      events_json TEXT NOT NULL,
      enabled     INTEGER NOT NULL DEFAULT 1,
      created_at  TEXT NOT NULL,
      updated_at  TEXT NOT NULL
    );
    CREATE TABLE webhook_deliveries (
      id               TEXT PRIMARY KEY,
      -- Deleting an endpoint drops its pending deliveries and its log.
      webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      event_id         TEXT NOT NULL,
      event_type       TEXT NOT NULL,
      -- The exact body sent on every attempt (the signature covers these bytes).
      body             TEXT NOT NULL,
      status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts         INTEGER NOT NULL DEFAULT 0,
      next_attempt_at  TEXT,
      last_status_code INTEGER,
      last_error       TEXT,
      created_at       TEXT NOT NULL,
      updated_at       TEXT NOT NULL
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
  `,
};
