import type { Migration } from './Migration.js';

/**
 * Where each version runs when its model's provider is `auto` (issue 18): the CPU, or WebGPU when
 * a measurement on this machine showed it faster with the same answers. One row per version, gone
 * with the version; the report says why (and the interval), so a restart serves where the last
 * measurement decided instead of measuring before serving.
 */
export const migration013Placements: Migration = {
  version: 13,
  name: 'placements',
  up: `
    CREATE TABLE version_placements (
      model_name  TEXT NOT NULL,
      version     TEXT NOT NULL,
      provider    TEXT NOT NULL CHECK (provider IN ('cpu', 'webgpu')),
      report_json TEXT NOT NULL,
      decided_at  TEXT NOT NULL,
      PRIMARY KEY (model_name, version),
      FOREIGN KEY (model_name, version) REFERENCES model_versions(model_name, version) ON DELETE CASCADE
    );
  `,
};
