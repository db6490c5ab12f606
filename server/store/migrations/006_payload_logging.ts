import type { Migration } from './Migration.js';

/** Opt-in payload logging (issue 6's settings page): the request and response of each logged inference, when the admin turns it on. */
export const migration006PayloadLogging: Migration = {
  version: 6,
  name: 'payload_logging',
  up: `
    ALTER TABLE request_log ADD COLUMN payload_json TEXT;
  `,
};
