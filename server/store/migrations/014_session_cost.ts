import type { Migration } from './Migration.js';

/**
 * What one session of a version costs, measured in a child process when it was uploaded (issue 19
 * item 6): the memory budget counts it instead of an estimate from the file size, which a graph of
 * many small nodes beats 50-85 times over. Kept so a restart does not measure again. NULL for
 * versions from before: they are measured at their next load.
 */
export const migration014SessionCost: Migration = {
  version: 14,
  name: 'session_cost',
  up: `
    ALTER TABLE model_versions ADD COLUMN session_bytes INTEGER;
    ALTER TABLE model_versions ADD COLUMN session_load_ms REAL;
  `,
};
