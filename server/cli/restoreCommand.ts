import { writeFile, chmod } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ApiKeyService } from '../auth/ApiKeyService.js';
import { ADMIN_KEY_FILE } from '../auth/ensureAdminKey.js';
import { createBackup } from '../backup/createBackup.js';
import { restoreBackup } from '../backup/restoreBackup.js';
import { defaultDataDir } from '../config/defaultDataDir.js';
import { packageVersion } from '../config/packageRoot.js';
import { latestSchemaVersion } from '../store/migrate.js';
import { snapshotDatabase } from '../store/snapshotDatabase.js';
import { Store } from '../store/Store.js';
import { UsageError } from './parseServeOptions.js';

const DATABASE_FILE = 'inferbox.db';

/**
 * `inferbox restore FILE`: into a stopped server's data dir (what it held is backed up first, as
 * `pre-restore`) or a fresh one. The archive holds API keys as hashes only and no admin.key, so a
 * new admin key is made and written to admin.key; keys from the backup keep working. All of it
 * happens to the staged copy (opened, migrated, new key, audit rows) before the data dir's files
 * are swapped: a failure leaves the old database and admin.key in place.
 */
export async function restoreCommand(args: string[], flags: Record<string, string | undefined>, say: (line: string) => void): Promise<void> {
  const [archive] = args;
  if (!archive || args.length > 1) throw new UsageError('usage: inferbox restore FILE [--data-dir DIR]  (npm run restore -- FILE)');
  const dataDir = flags['data-dir'] ?? process.env.INFERBOX_DATA_DIR ?? defaultDataDir();
  const databasePath = join(dataDir, DATABASE_FILE);
  const { manifest, previous } = await restoreBackup({
    archive: resolve(archive),
    dataDir,
    appVersion: packageVersion(),
    latestSchemaVersion: latestSchemaVersion(),
    backupCurrent: () => createBackup({ dataDir, appVersion: packageVersion(), snapshotDatabase: (destination) => snapshotDatabase(databasePath, destination) }, join(dataDir, 'backups'), 'pre-restore'),
    adopt: async ({ database, stagingDir, manifest: restored, previous: before }) => {
      // Opening migrates a backup from an older version now (the archive itself is its pre-migration copy).
      const store = Store.open(database);
      try {
        const { key, row } = new ApiKeyService(store.keys).createApiKey({ name: 'admin', scopes: ['admin'] });
        const stagedKey = join(stagingDir, ADMIN_KEY_FILE);
        await writeFile(stagedKey, `${key}\n`, { mode: 0o600 });
        await chmod(stagedKey, 0o600);
        const ts = new Date().toISOString();
        store.audit.insert({ ts, actor_id: null, actor_name: 'cli', action: 'backup.restore', target: basename(archive), details: { created_at: restored.created_at, app_version: restored.app_version, schema_version: restored.schema_version, files: restored.files.length, previous_data: before?.path ?? null }, remote_addr: null });
        store.audit.insert({ ts, actor_id: null, actor_name: 'cli', action: 'key.create', target: row.id, details: { name: 'admin', scopes: ['admin'], reason: 'restore: admin.key is not part of a backup' }, remote_addr: null });
      } finally {
        store.close();
      }
    },
  });
  const adminKeyPath = join(dataDir, ADMIN_KEY_FILE);
  say(`Restored ${basename(archive)} (made ${manifest.created_at} by Inferbox ${manifest.app_version}, ${manifest.files.length} files, checksums verified) into ${dataDir}.`);
  if (previous) say(`What the data folder held before is in ${previous.path}.`);
  say(`New admin key in ${adminKeyPath}; the backup's API keys (stored as hashes) keep working. Start the server (or the service) now.`);
}
