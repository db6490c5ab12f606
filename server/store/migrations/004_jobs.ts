import type { Migration } from './Migration.js';

/**
 * Async prediction jobs (issue 4): one row per job, its items' requests, and one result row per
 * item. A result and the job's counters are written in one transaction, and the runner only picks
 * items without a result row, so every item is answered exactly once across stops and crashes.
 * Jobs do not reference model_versions: a deleted version must fail its jobs, not erase them.
 */
export const migration004Jobs: Migration = {
  version: 4,
  name: 'jobs',
  up: `
    CREATE TABLE jobs (
      -- seq orders jobs (run oldest first, list newest first); id is the random public name.
      seq             INTEGER PRIMARY KEY AUTOINCREMENT,
      id              TEXT NOT NULL UNIQUE,
      model_name      TEXT NOT NULL,
      -- Pinned at submission: the job runs on this version even if another becomes active.
      version         TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      source          TEXT NOT NULL CHECK (source IN ('json', 'jsonl', 'csv')),
      total           INTEGER NOT NULL,
      done            INTEGER NOT NULL DEFAULT 0,
      failed          INTEGER NOT NULL DEFAULT 0,
      error           TEXT,
      created_by_key  TEXT,
      created_by_name TEXT NOT NULL,
      created_at      TEXT NOT NULL,
      started_at      TEXT,
      finished_at     TEXT,
      updated_at      TEXT NOT NULL
    );
    CREATE INDEX jobs_state ON jobs(state, seq);
    CREATE INDEX jobs_owner ON jobs(created_by_key, seq);
    CREATE INDEX jobs_finished ON jobs(finished_at);
    -- The item requests (OIP infer request bodies); dropped when the job ends.
    CREATE TABLE job_inputs (
      job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      idx          INTEGER NOT NULL,
      request_json TEXT NOT NULL,
      PRIMARY KEY (job_id, idx)
    ) WITHOUT ROWID;
    -- At most one result per item (the primary key): the item's OIP outputs or its own error.
    CREATE TABLE job_results (
      job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      idx          INTEGER NOT NULL,
      outputs_json TEXT,
      error        TEXT,
      finished_at  TEXT NOT NULL,
      PRIMARY KEY (job_id, idx),
      CHECK ((outputs_json IS NULL) <> (error IS NULL))
    ) WITHOUT ROWID;
  `,
};
