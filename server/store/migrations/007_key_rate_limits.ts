import type { Migration } from './Migration.js';

/**
 * Per-key rate limits (issue 8). NULL follows the server-wide default (`key_rate_limit_*`
 * settings), so existing keys keep today's behaviour; a per-second rate of 0 means unlimited.
 */
export const migration007KeyRateLimits: Migration = {
  version: 7,
  name: 'key_rate_limits',
  up: `
    ALTER TABLE api_keys ADD COLUMN rate_limit_per_second REAL;
    ALTER TABLE api_keys ADD COLUMN rate_limit_burst INTEGER;
  `,
};
