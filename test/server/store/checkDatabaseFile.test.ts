import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { checkDatabaseFile } from '../../../server/store/checkDatabaseFile.js';
import { migrate, SchemaTooNewError } from '../../../server/store/migrate.js';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';
import type { Migration } from '../../../server/store/migrations/Migration.js';
import { Store } from '../../../server/store/Store.js';

const LATEST = MIGRATIONS.at(-1)!.version;
const dir = await mkdtemp(join(tmpdir(), 'inferbox-check-db-'));
after(() => rm(dir, { recursive: true, force: true }));

function databaseAt(name: string, version: number): string {
  const path = join(dir, name);
  const db = new Database(path);
  migrate(db, MIGRATIONS.filter((m) => m.version <= version));
  db.close();
  return path;
}

test('a whole database of the newest schema, and an older one the migrations apply to, pass; the older one is not changed by the check', async () => {
  const store = Store.open(join(dir, 'live.db'));
  store.settings.setMany({ port: 9000 }, '2026-01-01T00:00:00.000Z');
  store.close();
  assert.deepEqual(checkDatabaseFile(join(dir, 'live.db')), { version: LATEST, problem: null });

  const older = databaseAt('schema3.db', 3);
  const before = await readFile(older);
  assert.deepEqual(checkDatabaseFile(older), { version: 3, problem: null });
  assert.deepEqual(await readFile(older), before, 'the trial migration was rolled back');
});

test('user_version without the tables, a missing column, user_version 0, garbage and a newer schema are refused', async () => {
  const empty = join(dir, 'empty.db');
  const db = new Database(empty);
  db.pragma(`user_version = ${LATEST}`);
  db.close();
  assert.match(checkDatabaseFile(empty).problem ?? '', new RegExp(`^is not a complete schema-${LATEST} Inferbox database: \\d+ of its \\d+ tables are missing \\(`));

  const noColumn = databaseAt('nocolumn.db', LATEST);
  const edit = new Database(noColumn);
  edit.exec('ALTER TABLE settings RENAME TO settings_old; CREATE TABLE settings (key TEXT PRIMARY KEY)');
  edit.close();
  assert.match(checkDatabaseFile(noColumn).problem ?? '', /table settings lacks column\(s\) /);

  const zero = join(dir, 'zero.db');
  const z = new Database(zero);
  z.exec('CREATE TABLE t (x)');
  z.close();
  assert.equal(checkDatabaseFile(zero).problem, 'holds no Inferbox schema (user_version 0)');

  const garbage = join(dir, 'garbage.db');
  await writeFile(garbage, Buffer.alloc(8192, 7));
  assert.match(checkDatabaseFile(garbage).problem ?? '', /^is not an SQLite database \(/);

  const newer = join(dir, 'newer.db');
  const n = new Database(newer);
  n.pragma(`user_version = ${LATEST + 1}`);
  n.close();
  assert.throws(() => checkDatabaseFile(newer), SchemaTooNewError);
});

test('a damaged page fails the integrity check; a migration that cannot apply is reported', async () => {
  const damaged = databaseAt('damaged.db', LATEST);
  const fill = new Database(damaged);
  fill.exec(`CREATE INDEX audit_by_action_x ON audit_log(action);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
    INSERT INTO audit_log (ts, actor_name, action, target) SELECT '2026', 'x', 'a' || i, 't' FROM n`);
  fill.close();
  const bytes = await readFile(damaged);
  // Overwrite the middle of the file (index and table pages), leaving the header intact.
  bytes.fill(0x55, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096);
  await writeFile(damaged, bytes);
  assert.match(checkDatabaseFile(damaged).problem ?? '', /integrity check/);

  const older = databaseAt('cannot-migrate.db', 1);
  const broken: Migration[] = [...MIGRATIONS.filter((m) => m.version <= 1), { version: 2, name: 'broken', up: 'ALTER TABLE no_such_table ADD COLUMN x TEXT' }];
  assert.match(checkDatabaseFile(older, broken).problem ?? '', /^cannot be migrated from schema 1 to 2 \(no such table: no_such_table\)/);
});
