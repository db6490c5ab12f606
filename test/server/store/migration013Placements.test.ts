import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-store-013-'));
after(() => rm(dir, { recursive: true, force: true }));

const BEFORE_013 = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 13));

test('013_placements migrates an older database holding a version: no placement yet; a placement goes with its version', () => {
  const db = new Database(join(dir, 'v-before-13.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, BEFORE_013);
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'x', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, BEFORE_013.length + 1)), { from: BEFORE_013.at(-1)!.version, to: 13 });
  assert.deepEqual(db.prepare('SELECT sha256 FROM model_versions').get(), { sha256: 'abc' }, 'the version is untouched');
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM version_placements').get(), { n: 0 });
  db.prepare("INSERT INTO version_placements (model_name, version, provider, report_json, decided_at) VALUES ('mlp', '1', 'cpu', '{}', 'now')").run();
  assert.throws(() => db.prepare("INSERT INTO version_placements (model_name, version, provider, report_json, decided_at) VALUES ('mlp', '2', 'cpu', '{}', 'now')").run(), /FOREIGN KEY/);
  assert.throws(() => db.prepare("UPDATE version_placements SET provider = 'gpu'").run(), /CHECK constraint/);
  db.prepare("DELETE FROM model_versions WHERE model_name = 'mlp' AND version = '1'").run();
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM version_placements').get(), { n: 0 });
  db.close();
});
