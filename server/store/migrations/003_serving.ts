import type { Migration } from './Migration.js';

/**
 * Low-latency serving (issue 4): per-model serving settings (batching, instances, idle unload) as
 * the admin's overrides of the server-wide defaults, and the per-stage times of each request.
 */
export const migration003Serving: Migration = {
  version: 3,
  name: 'serving',
  up: `
    -- Only the settings the admin set for this model; the rest follow the server-wide defaults.
    ALTER TABLE models ADD COLUMN settings_json TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE request_log ADD COLUMN decode_ms REAL;
    ALTER TABLE request_log ADD COLUMN batch_ms REAL;
    ALTER TABLE request_log ADD COLUMN serialize_ms REAL;
    ALTER TABLE request_log ADD COLUMN batch_rows INTEGER;
  `,
};
