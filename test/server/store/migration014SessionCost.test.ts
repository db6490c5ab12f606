import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';
import { ModelRepository } from '../../../server/store/ModelRepository.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-store-014-'));
after(() => rm(dir, { recursive: true, force: true }));

const BEFORE_014 = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 14));

test('014_session_cost migrates an older database holding a version: not measured yet (null), and a measurement is kept', () => {
  const db = new Database(join(dir, 'v-before-14.db'));
  migrate(db, BEFORE_014);
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'x', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, BEFORE_014.length + 1)), { from: BEFORE_014.at(-1)!.version, to: 14 });
  const models = new ModelRepository(db);
  const row = models.getVersion('mlp', '1')!;
  assert.equal(row.sha256, 'abc', 'the version is untouched');
  assert.equal(row.session_bytes, null);
  assert.equal(row.session_load_ms, null);
  models.setSessionCost('mlp', '1', { sessionBytes: 73_000_000, loadMs: 612.5 });
  assert.deepEqual({ ...models.getVersion('mlp', '1')! }, { ...row, session_bytes: 73_000_000, session_load_ms: 612.5 });
  db.close();
});
