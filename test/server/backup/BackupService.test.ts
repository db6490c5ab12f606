import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BackupScheduler } from '../../../server/backup/BackupScheduler.js';
import { BackupService, type BackupSettings } from '../../../server/backup/BackupService.js';
import type { BackupFile } from '../../../server/backup/createBackup.js';
import { Store } from '../../../server/store/Store.js';

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-backup-service-'));
const store = Store.open(join(dataDir, 'inferbox.db'));
after(async () => { store.close(); await rm(dataDir, { recursive: true, force: true }); });

const settings: BackupSettings = { directory: '', intervalHours: 0, keep: 2 };
const service = new BackupService({ dataDir, appVersion: 'test', snapshotDatabase: (destination) => store.backupTo(destination) }, () => settings);

test('scheduled backups: off at 0 hours; due when the newest is older than the interval; retention keeps the newest per kind', async () => {
  const created: BackupFile[] = [];
  const scheduler = new BackupScheduler(service, { onCreated: (file) => created.push(file), onError: (error) => { throw error; } });
  await scheduler.check();
  assert.equal(created.length, 0, 'backup_interval_hours 0 = off');

  settings.intervalHours = 1;
  await scheduler.check();
  assert.equal(created.length, 1);
  assert.equal(created[0]!.reason, 'scheduled');
  await scheduler.check();
  assert.equal(created.length, 1, 'not due again within the hour');
  assert.equal(await service.due(new Date(Date.now() + 3_600_000 + 1000)), true, 'due after the interval');

  await service.create('manual'); // a manual backup restarts the clock and is kept apart from scheduled ones
  await service.create('scheduled');
  await service.create('scheduled');
  const names = await readdir(join(dataDir, 'backups'));
  assert.equal(names.filter((n) => n.endsWith('-scheduled.tar.gz')).length, 2, names.join(', '));
  assert.equal(names.filter((n) => n.endsWith('-manual.tar.gz')).length, 1, 'a manual backup is not pushed out by scheduled ones');
  assert.ok(!names.includes(`${created[0]!.name}`), 'the oldest scheduled one went');
  assert.deepEqual((await service.list()).map((b) => b.created_at), [...(await service.list()).map((b) => b.created_at)].sort().reverse(), 'newest first');
  await scheduler.close();
});

test('backup_dir: relative to the data dir, or absolute', () => {
  settings.directory = 'elsewhere';
  assert.equal(service.directory, join(dataDir, 'elsewhere'));
  settings.directory = '/srv/backups';
  assert.equal(service.directory, '/srv/backups');
  settings.directory = '';
});
