import type { Migration } from './Migration.js';

/**
 * The tuner's runs (issue 20): one row per version, its latest run. The plan (candidates, and
 * those the memory budget left out), each candidate's measured curve as it finished (so a run
 * interrupted by a restart resumes with the candidates it had not measured), the choice, and
 * what an apply replaced (the admin's settings and precision override before it), so it can be
 * reverted; and adaptive remediation's step away from it (to which candidate, since when, why, and
 * the settings to return to), so a restart still returns it when the load falls. Gone with the version.
 */
export const migration015Tuning: Migration = {
  version: 15,
  name: 'tuning',
  up: `
    CREATE TABLE tuning_runs (
      model_name         TEXT NOT NULL,
      version            TEXT NOT NULL,
      status             TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
      budget_seconds     REAL NOT NULL,
      objective_p95_ms   REAL,
      plan_json          TEXT NOT NULL,
      results_json       TEXT NOT NULL DEFAULT '[]',
      choice_json        TEXT,
      error              TEXT,
      started_at         TEXT NOT NULL,
      finished_at        TEXT,
      applied_id         TEXT,
      applied_at         TEXT,
      replaced_json      TEXT,
      remediation_json   TEXT,
      PRIMARY KEY (model_name, version),
      FOREIGN KEY (model_name, version) REFERENCES model_versions(model_name, version) ON DELETE CASCADE
    );
  `,
};
