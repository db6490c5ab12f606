import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';
import { TuningRepository } from '../../../server/store/TuningRepository.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-store-015-'));
after(() => rm(dir, { recursive: true, force: true }));

const BEFORE_015 = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 15));

test('015_tuning migrates an older database holding a version: no run yet; a run keeps its results in order, resumes, and goes with its version', () => {
  const db = new Database(join(dir, 'v-before-15.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, BEFORE_015);
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'x', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, BEFORE_015.length + 1)), { from: BEFORE_015.at(-1)!.version, to: 15 });
  assert.deepEqual(db.prepare('SELECT sha256 FROM model_versions').get(), { sha256: 'abc' }, 'the version is untouched');
  const runs = new TuningRepository(db);
  assert.equal(runs.get('mlp', '1'), undefined);
  runs.start({ model_name: 'mlp', version: '1', budget_seconds: 60, objective_p95_ms: 20, plan: { candidates: [{ id: 'current' }, { id: 'batch-off' }] }, started_at: 'now' });
  runs.addResult('mlp', '1', { id: 'current', curve: [{ concurrency: 1, rps: 10 }] });
  runs.addResult('mlp', '1', { id: 'batch-off', curve: [] });
  assert.deepEqual(runs.running().map((r) => [r.model_name, r.results.map((x) => x.id)]), [['mlp', ['current', 'batch-off']]], 'an unfinished run, with what it measured');
  runs.finish('mlp', '1', { status: 'done', choice: { id: 'current' }, error: null, at: 'later' });
  runs.setApplied('mlp', '1', { id: 'current', at: 'later', replaced: { settings: {} } });
  const row = runs.get('mlp', '1')!;
  assert.deepEqual([row.status, row.choice, row.applied_id, row.replaced, runs.running().length], ['done', { id: 'current' }, 'current', { settings: {} }, 0]);
  assert.throws(() => db.prepare("UPDATE tuning_runs SET status = 'queued'").run(), /CHECK constraint/);
  assert.throws(() => runs.start({ model_name: 'mlp', version: '2', budget_seconds: 60, objective_p95_ms: null, plan: {}, started_at: 'now' }), /FOREIGN KEY/);
  db.prepare("DELETE FROM model_versions WHERE model_name = 'mlp' AND version = '1'").run();
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM tuning_runs').get(), { n: 0 });
  db.close();
});
