import type { Migration } from './Migration.js';

/**
 * A/B testing (issue 5): experiments per model, the units each variant served (first exposure
 * decides a unit's variant for the analysis), business outcomes per unit, latency histograms per
 * variant, shadow results, and which experiment and variant answered each logged request (so
 * feedback can name a request id).
 */
export const migration005Experiments: Migration = {
  version: 5,
  name: 'experiments',
  up: `
    CREATE TABLE experiments (
      id          TEXT PRIMARY KEY,
      model_name  TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
      name        TEXT NOT NULL,
      -- draft, running, paused, stopped, rolled_back, completed
      status      TEXT NOT NULL,
      -- The kill switch: 0 sends all traffic to the control variant at once.
      enabled     INTEGER NOT NULL DEFAULT 1,
      seed        TEXT NOT NULL,
      config_json TEXT NOT NULL,
      -- Treatment weights now (the canary ramp and rollbacks change them), JSON array.
      weights_json TEXT NOT NULL,
      canary_step INTEGER NOT NULL DEFAULT 0,
      end_reason  TEXT,
      created_at  TEXT NOT NULL,
      updated_at  TEXT NOT NULL,
      started_at  TEXT,
      ended_at    TEXT
    );
    -- One running experiment per model, enforced by the database as well as the service.
    CREATE UNIQUE INDEX experiments_one_running ON experiments(model_name) WHERE status = 'running';
    CREATE TABLE experiment_units (
      experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      unit_id       TEXT NOT NULL,
      variant       TEXT NOT NULL,
      canary_step   INTEGER NOT NULL,
      requests      INTEGER NOT NULL,
      errors        INTEGER NOT NULL,
      latency_ms_sum REAL NOT NULL,
      -- 1 once the unit was served another variant than its first (a canary step moved it): left out of the analysis.
      crossed       INTEGER NOT NULL DEFAULT 0,
      first_seen    TEXT NOT NULL,
      last_seen     TEXT NOT NULL,
      PRIMARY KEY (experiment_id, unit_id)
    );
    CREATE INDEX experiment_units_variant ON experiment_units(experiment_id, canary_step, variant);
    CREATE TABLE experiment_outcomes (
      experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      unit_id       TEXT NOT NULL,
      metric        TEXT NOT NULL,
      value_sum     REAL NOT NULL,
      observations  INTEGER NOT NULL,
      PRIMARY KEY (experiment_id, unit_id, metric)
    );
    CREATE TABLE experiment_latency (
      experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      -- a variant name, or 'shadow'
      arm           TEXT NOT NULL,
      bucket        INTEGER NOT NULL,
      count         INTEGER NOT NULL,
      PRIMARY KEY (experiment_id, arm, bucket)
    );
    CREATE TABLE experiment_arm_stats (
      experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      arm           TEXT NOT NULL,
      requests      INTEGER NOT NULL,
      errors        INTEGER NOT NULL,
      -- shadow only: answers that agreed with the served variant's
      agreements    INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (experiment_id, arm)
    );
    ALTER TABLE request_log ADD COLUMN experiment_id TEXT;
    ALTER TABLE request_log ADD COLUMN variant TEXT;
    ALTER TABLE request_log ADD COLUMN unit_id TEXT;
    CREATE INDEX request_log_request_id ON request_log(request_id);
  `,
};
