import type { Migration } from './Migration.js';

/**
 * The W3C trace id of each logged request (issue 9), so a trace in the admin's tracing tool leads
 * to its log row and back. Older rows have none (NULL). Indexed for `GET /api/logs?trace_id=`.
 */
export const migration011TraceIds: Migration = {
  version: 11,
  name: 'trace_ids',
  up: `
    ALTER TABLE request_log ADD COLUMN trace_id TEXT;
    CREATE INDEX request_log_trace_id ON request_log (trace_id);
  `,
};
