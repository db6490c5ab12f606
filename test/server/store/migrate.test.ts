import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, SchemaTooNewError } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';
import { Store } from '../../../server/store/Store.js';

/** The newest schema version (versions are numbered per issue, so it need not be the count). */
const LATEST = MIGRATIONS.at(-1)!.version;
const dir = await mkdtemp(join(tmpdir(), 'inferbox-store-'));
after(() => rm(dir, { recursive: true, force: true }));

test('001_initial creates every table on an empty database and records the schema version', () => {
  const db = new Database(join(dir, 'empty.db'));
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 1)), { from: 0, to: 1 });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  assert.deepEqual(tables, ['api_keys', 'audit_log', 'model_versions', 'models', 'request_log', 'settings']);
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  db.close();
});

test('migrating again keeps the data (idempotent) and opens in WAL mode', () => {
  const path = join(dir, 'data.db');
  const store = Store.open(path);
  store.settings.setMany({ port: 9000 }, '2026-01-01T00:00:00.000Z');
  store.close();
  const db = new Database(path);
  assert.deepEqual(migrate(db), { from: LATEST, to: LATEST });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  const reopened = Store.open(path);
  assert.deepEqual(reopened.settings.getAll(), { port: 9000 });
  reopened.close();
});

test('a database from a newer Inferbox is refused and left untouched', () => {
  const db = new Database(join(dir, 'newer.db'));
  db.pragma(`user_version = ${LATEST + 5}`);
  assert.throws(() => migrate(db), SchemaTooNewError);
  assert.equal(db.pragma('user_version', { simple: true }), LATEST + 5);
  db.close();
});

test('a failing migration rolls back with its version bump', () => {
  const db = new Database(join(dir, 'broken.db'));
  const broken = [...MIGRATIONS, { version: LATEST + 1, name: 'broken', up: 'CREATE TABLE half (x); SELECT * FROM no_such_table;' }];
  assert.throws(() => migrate(db, broken), /no such table/);
  assert.equal(db.pragma('user_version', { simple: true }), LATEST);
  const half = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number };
  assert.equal(half.n, 0);
  db.close();
});

test('002_quantization migrates a version-1 database holding models, keeping them as fp32', () => {
  const db = new Database(join(dir, 'v1.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 1));
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'p', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 2)), { from: 1, to: 2 });
  const row = db.prepare('SELECT served_precision, precision_override, sha256 FROM model_versions').get();
  assert.deepEqual(row, { served_precision: 'fp32', precision_override: null, sha256: 'abc' });
  assert.deepEqual(db.prepare('SELECT last_version, sample_recording_limit FROM models').get(), { last_version: 1, sample_recording_limit: 0 }, 'the version counter starts from the stored versions');
  db.prepare("INSERT INTO quantization_reports (model_name, version, status, updated_at) VALUES ('mlp', '1', 'queued', 'now')").run();
  db.prepare("INSERT INTO model_samples (model_name, source, inputs_json, created_at) VALUES ('mlp', 'uploaded', '[]', 'now')").run();
  db.prepare("DELETE FROM models WHERE name = 'mlp'").run();
  const left = db.prepare('SELECT (SELECT COUNT(*) FROM quantization_reports) AS reports, (SELECT COUNT(*) FROM model_samples) AS samples').get();
  assert.deepEqual(left, { reports: 0, samples: 0 }, 'reports and samples go with their model');
  db.close();
});

test('003_serving migrates a version-2 database holding models and logged requests: no overrides, stage times unknown', () => {
  const db = new Database(join(dir, 'v2.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 2));
  db.prepare("INSERT INTO models (name, active_version, created_at, cache_enabled) VALUES ('mlp', '1', '2026-01-01T00:00:00Z', 1)").run();
  db.prepare(
    `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, queue_ms, infer_ms, bytes_in, bytes_out)
     VALUES ('2026-01-01T00:00:00Z', 'r1', 'mlp', '1', 'k', 200, NULL, 1.5, 0.2, 0.7, 10, 20)`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 3)), { from: 2, to: 3 });
  assert.deepEqual(db.prepare('SELECT name, cache_enabled, settings_json FROM models').get(), { name: 'mlp', cache_enabled: 1, settings_json: '{}' });
  assert.deepEqual(
    db.prepare('SELECT request_id, total_ms, queue_ms, infer_ms, decode_ms, batch_ms, serialize_ms, batch_rows FROM request_log').get(),
    { request_id: 'r1', total_ms: 1.5, queue_ms: 0.2, infer_ms: 0.7, decode_ms: null, batch_ms: null, serialize_ms: null, batch_rows: null },
  );
  db.close();
});

test('004_jobs migrates a version-3 database holding models and reports; jobs keep at most one result per item', () => {
  const db = new Database(join(dir, 'v3.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 3));
  db.prepare("INSERT INTO models (name, active_version, created_at, last_version) VALUES ('mlp', '1', '2026-01-01T00:00:00Z', 1)").run();
  db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('mlp', '1', 'loaded', 'models/mlp/1/model.onnx', 'abc', 10, 17, 8, 'p', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  ).run();
  db.prepare("INSERT INTO quantization_reports (model_name, version, status, updated_at) VALUES ('mlp', '1', 'done', 'now')").run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 4)), { from: 3, to: 4 });
  assert.deepEqual(db.prepare('SELECT model_name, version, sha256, served_precision FROM model_versions').get(), { model_name: 'mlp', version: '1', sha256: 'abc', served_precision: 'fp32' });
  assert.deepEqual(db.prepare('SELECT status FROM quantization_reports').get(), { status: 'done' });

  db.prepare(
    `INSERT INTO jobs (id, model_name, version, state, source, total, created_by_name, created_at, updated_at)
     VALUES ('job_a', 'mlp', '1', 'running', 'csv', 2, 'admin', 'now', 'now')`,
  ).run();
  db.prepare("INSERT INTO job_inputs (job_id, idx, request_json) VALUES ('job_a', 0, '{}'), ('job_a', 1, '{}')").run();
  db.prepare("INSERT INTO job_results (job_id, idx, outputs_json, finished_at) VALUES ('job_a', 0, '[]', 'now')").run();
  assert.throws(() => db.prepare("INSERT INTO job_results (job_id, idx, error, finished_at) VALUES ('job_a', 0, 'again', 'now')").run(), /UNIQUE/, 'a second result for an item is refused');
  assert.throws(() => db.prepare("INSERT INTO job_results (job_id, idx, finished_at) VALUES ('job_a', 1, 'now')").run(), /CHECK/, 'a result is outputs or an error');
  db.prepare("DELETE FROM models WHERE name = 'mlp'").run();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n, 1, 'a job outlives its model (it fails, it is not erased)');
  db.prepare("DELETE FROM jobs WHERE id = 'job_a'").run();
  const left = db.prepare('SELECT (SELECT COUNT(*) FROM job_inputs) AS inputs, (SELECT COUNT(*) FROM job_results) AS results').get();
  assert.deepEqual(left, { inputs: 0, results: 0 }, 'inputs and results go with their job');
  db.close();
});

test('005_experiments migrates a version-4 database holding models and logged requests: one running experiment per model, data goes with its experiment', () => {
  const db = new Database(join(dir, 'v4.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 4));
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')").run();
  db.prepare(
    `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, bytes_in, bytes_out)
     VALUES ('2026-01-01T00:00:00Z', 'r1', 'mlp', '1', 'k', 200, NULL, 1.5, 10, 20)`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 5)), { from: 4, to: 5 });
  assert.deepEqual(db.prepare('SELECT request_id, experiment_id, variant, unit_id FROM request_log').get(), { request_id: 'r1', experiment_id: null, variant: null, unit_id: null });
  const insert = db.prepare(
    `INSERT INTO experiments (id, model_name, name, status, seed, config_json, weights_json, created_at, updated_at) VALUES (?, 'mlp', 'x', ?, 's', '{}', '[0.5,0.5]', 'now', 'now')`,
  );
  insert.run('exp_a', 'running');
  insert.run('exp_b', 'draft');
  assert.throws(() => insert.run('exp_c', 'running'), /UNIQUE/, 'a second running experiment on one model is refused');
  db.prepare("INSERT INTO experiment_units (experiment_id, unit_id, variant, canary_step, requests, errors, latency_ms_sum, first_seen, last_seen) VALUES ('exp_a', 'u1', 'control', 0, 1, 0, 1, 'now', 'now')").run();
  db.prepare("INSERT INTO experiment_outcomes (experiment_id, unit_id, metric, value_sum, observations) VALUES ('exp_a', 'u1', 'converted', 1, 1)").run();
  db.prepare("DELETE FROM models WHERE name = 'mlp'").run();
  const left = db.prepare('SELECT (SELECT COUNT(*) FROM experiments) AS e, (SELECT COUNT(*) FROM experiment_units) AS u, (SELECT COUNT(*) FROM experiment_outcomes) AS o').get();
  assert.deepEqual(left, { e: 0, u: 0, o: 0 }, "a model's experiments and their data go with it");
  db.close();
});

test('006_payload_logging migrates a version-5 database holding logged requests: no payloads', () => {
  const db = new Database(join(dir, 'v5.db'));
  migrate(db, MIGRATIONS.slice(0, 5));
  db.prepare(
    `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, bytes_in, bytes_out)
     VALUES ('2026-01-01T00:00:00Z', 'r1', 'mlp', '1', 'k', 200, NULL, 1.5, 10, 20)`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 6)), { from: 5, to: 6 });
  assert.deepEqual(db.prepare('SELECT request_id, payload_json FROM request_log').get(), { request_id: 'r1', payload_json: null });
  db.close();
});

test('008_payload_privacy migrates a version-6 database with payload logging on: payloads move to their own table, every model keeps logging, the server-wide switch is gone', () => {
  const db = new Database(join(dir, 'v6.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 6));
  db.prepare(`INSERT INTO models (name, active_version, created_at, settings_json) VALUES ('mlp', '1', '2026-01-01T00:00:00Z', '{"max_batch_size":4}'), ('ocr', '1', '2026-01-01T00:00:00Z', '{}')`).run();
  db.prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES ('log_payloads', 'true', 'now'), ('port', '9000', 'now')`).run();
  const log = db.prepare(
    `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, bytes_in, bytes_out, payload_json)
     VALUES (?, ?, ?, '1', 'k1', 200, NULL, 1.5, 10, 20, ?)`,
  );
  log.run('2026-01-01T00:00:00.000Z', 'r1', 'mlp', '{"request":"{}","response":"{}"}');
  log.run('2026-01-01T00:00:01.000Z', 'r2', 'mlp', null);
  log.run('2026-01-01T00:00:02.000Z', 'r3', 'deleted-model', '{"request":"{\\"x\\":1}","response":"{}"}');
  db.prepare("INSERT INTO model_samples (model_name, source, inputs_json, created_at) VALUES ('mlp', 'live', '[]', 'now')").run();

  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 8) + 1)), { from: 6, to: 8 });
  assert.deepEqual(db.prepare('SELECT ts, request_id, model, version, key_id, payload_json FROM inference_payloads').all(), [
    { ts: '2026-01-01T00:00:00.000Z', request_id: 'r1', model: 'mlp', version: '1', key_id: 'k1', payload_json: '{"request":"{}","response":"{}"}' },
  ], "payloads of existing models move; a deleted model's do not");
  const columns = (db.prepare('PRAGMA table_info(request_log)').all() as { name: string }[]).map((c) => c.name);
  assert.ok(!columns.includes('payload_json'), 'the request log holds no payloads any more');
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM request_log').get() as { n: number }).n, 3, 'the request log rows stay');
  assert.deepEqual(
    (db.prepare('SELECT name, settings_json FROM models ORDER BY name').all() as { name: string; settings_json: string }[]).map((m) => [m.name, JSON.parse(m.settings_json)]),
    [['mlp', { max_batch_size: 4, log_payloads: true }], ['ocr', { log_payloads: true }]],
  );
  assert.deepEqual(db.prepare('SELECT key FROM settings').all(), [{ key: 'port' }]);
  assert.deepEqual(db.prepare('SELECT source, request_id FROM model_samples').all(), [{ source: 'live', request_id: null }]);
  db.prepare("DELETE FROM models WHERE name = 'mlp'").run();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM inference_payloads').get() as { n: number }).n, 0, "a model's payloads go with it");
  db.close();
});

test('008_payload_privacy with payload logging off (the default) switches it on for no model', () => {
  const db = new Database(join(dir, 'v6-off.db'));
  migrate(db, MIGRATIONS.slice(0, 6));
  db.prepare(`INSERT INTO models (name, active_version, created_at) VALUES ('mlp', '1', '2026-01-01T00:00:00Z')`).run();
  db.prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES ('log_payloads', 'false', 'now')`).run();
  migrate(db, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 8) + 1));
  assert.deepEqual(db.prepare('SELECT settings_json FROM models').get(), { settings_json: '{}' });
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM settings').get(), { n: 0 });
});

test('007_key_rate_limits migrates a version-6 database holding keys: they follow the server default', () => {
  const db = new Database(join(dir, 'v6-keys.db'));
  migrate(db, MIGRATIONS.slice(0, 6));
  db.prepare("INSERT INTO api_keys (id, name, key_hash, scopes_json, created_at) VALUES ('abc', 'app', 'hash', '[\"infer\"]', '2026-01-01T00:00:00Z')").run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 7)), { from: 6, to: 7 });
  assert.deepEqual(db.prepare('SELECT id, scopes_json, rate_limit_per_second, rate_limit_burst FROM api_keys').get(), { id: 'abc', scopes_json: '["infer"]', rate_limit_per_second: null, rate_limit_burst: null });
});

test('010_model_cards migrates a version-6 database holding a model and a job: cards go with what they describe', () => {
  const db = new Database(join(dir, 'v6-cards.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 6));
  db.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('fraud', '1', '2026-01-01T00:00:00Z')").run();
  const version = db.prepare(
    `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by)
     VALUES ('fraud', ?, 'loaded', 'models/fraud/1/model.onnx', 'abc', 10, 17, 8, 'p', '[]', '[]', '2026-01-01T00:00:00Z', 'admin')`,
  );
  version.run('1');
  version.run('2');
  db.prepare(
    `INSERT INTO jobs (id, model_name, version, state, source, total, created_by_name, created_at, updated_at)
     VALUES ('job_1', 'fraud', '1', 'succeeded', 'csv', 1, 'admin', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
  ).run();
  assert.deepEqual(migrate(db), { from: 6, to: LATEST });
  assert.deepEqual(db.prepare('SELECT id, card_json FROM jobs').get(), { id: 'job_1', card_json: null }, 'an older job is a tensor job');
  db.prepare("INSERT INTO model_cards (model_name, card_json, updated_at) VALUES ('fraud', '{}', 'now')").run();
  db.prepare("INSERT INTO model_version_cards (model_name, version, card_json, updated_at) VALUES ('fraud', '2', '{}', 'now')").run();
  assert.throws(() => db.prepare("INSERT INTO model_version_cards (model_name, version, card_json, updated_at) VALUES ('fraud', '9', '{}', 'now')").run(), /FOREIGN KEY/);
  db.prepare("DELETE FROM model_versions WHERE model_name = 'fraud' AND version = '2'").run();
  assert.deepEqual(db.prepare('SELECT (SELECT COUNT(*) FROM model_cards) AS m, (SELECT COUNT(*) FROM model_version_cards) AS v').get(), { m: 1, v: 0 }, "a version's card goes with it");
  db.prepare("DELETE FROM model_versions WHERE model_name = 'fraud'").run();
  db.prepare("DELETE FROM models WHERE name = 'fraud'").run();
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS m FROM model_cards').get(), { m: 0 }, "a model's card goes with it");
  db.close();
});

test('011_trace_ids migrates a version-8 database holding logged requests: they have no trace id, new rows do', () => {
  const db = new Database(join(dir, 'v8.db'));
  migrate(db, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 8) + 1));
  db.prepare(
    `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, bytes_in, bytes_out)
     VALUES ('2026-01-01T00:00:00Z', 'r1', 'mlp', '1', 'k', 200, NULL, 1.5, 10, 20)`,
  ).run();
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.version === 11) + 1)), { from: 8, to: 11 });
  assert.deepEqual(db.prepare('SELECT request_id, trace_id FROM request_log').get(), { request_id: 'r1', trace_id: null });
  db.prepare(`INSERT INTO request_log (ts, request_id, status, total_ms, bytes_in, bytes_out, trace_id) VALUES ('2026-01-02T00:00:00Z', 'r2', 200, 1, 1, 1, '4bf92f3577b34da6a3ce929d0e0e4736')`).run();
  const plan = db.prepare("EXPLAIN QUERY PLAN SELECT request_id FROM request_log WHERE trace_id = '4bf92f3577b34da6a3ce929d0e0e4736'").all() as { detail: string }[];
  assert.ok(plan.some((step) => step.detail.includes('request_log_trace_id')), 'the lookup by trace id uses the index');
  db.close();
});
