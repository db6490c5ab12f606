import type { Migration } from './Migration.js';

/**
 * Payload privacy (issue 8): payloads leave the request log for their own table, with a shorter
 * retention per model, export and erasure. The server-wide `log_payloads` switch becomes a
 * per-model setting: where it was on, every existing model keeps logging (models uploaded later
 * start with it off), and payloads already logged move over with their request's id, model,
 * version, time and key. Live quantization samples get the request id they came from, so erasing
 * a request erases its sample too.
 */
export const migration008PayloadPrivacy: Migration = {
  version: 8,
  name: 'payload_privacy',
  up: `
    CREATE TABLE inference_payloads (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      ts           TEXT NOT NULL,
      request_id   TEXT NOT NULL,
      -- A deleted model takes its payloads with it.
      model        TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
      version      TEXT,
      key_id       TEXT,
      -- {"request": …, "response": …}, each cut at 64 KiB.
      payload_json TEXT NOT NULL
    );
    CREATE INDEX inference_payloads_model_ts ON inference_payloads(model, ts);
    CREATE INDEX inference_payloads_ts ON inference_payloads(ts);
    CREATE INDEX inference_payloads_request ON inference_payloads(request_id);

    INSERT INTO inference_payloads (ts, request_id, model, version, key_id, payload_json)
      SELECT ts, COALESCE(request_id, ''), model, version, key_id, payload_json FROM request_log
      WHERE payload_json IS NOT NULL AND model IN (SELECT name FROM models)
      ORDER BY id;
    ALTER TABLE request_log DROP COLUMN payload_json;

    UPDATE models SET settings_json = json_set(settings_json, '$.log_payloads', json('true'))
      WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'log_payloads' AND value_json = 'true');
    DELETE FROM settings WHERE key = 'log_payloads';

    ALTER TABLE model_samples ADD COLUMN request_id TEXT;
    CREATE INDEX model_samples_request ON model_samples(request_id) WHERE request_id IS NOT NULL;
  `,
};
