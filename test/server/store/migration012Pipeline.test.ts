import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-store-012-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Every migration before 012 (others of issue 9 may sit between 008 and 012). */
const BEFORE_012 = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 12));

test('012_pipeline migrates an older database holding model versions: no labels or metrics, webhooks tables empty; deliveries go with their endpoint', () => {
  const db = new Database(join(dir, 'v-before-12.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, BEFORE_012);
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'x', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  const from = BEFORE_012.at(-1)!.version;
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, BEFORE_012.length + 1)), { from, to: 12 });
  assert.deepEqual(db.prepare('SELECT sha256, labels_json, metrics_json FROM model_versions').get(), { sha256: 'abc', labels_json: '{}', metrics_json: '{}' });
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM webhooks').get(), { n: 0 });

  db.prepare("INSERT INTO webhooks (id, url, secret, events_json, created_at, updated_at) VALUES ('wh_1', 'http://10.0.0.5/h', 's', '[]', 'now', 'now')").run();
  db.prepare("INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, status, next_attempt_at, created_at, updated_at) VALUES ('d1', 'wh_1', 'e1', 'webhook.test', '{}', 'pending', 'now', 'now', 'now')").run();
  assert.throws(() => db.prepare("INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, status, created_at, updated_at) VALUES ('d2', 'wh_1', 'e1', 't', '{}', 'lost', 'now', 'now')").run(), /CHECK constraint/);
  db.prepare("DELETE FROM webhooks WHERE id = 'wh_1'").run();
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM webhook_deliveries').get(), { n: 0 });
  db.close();
});
