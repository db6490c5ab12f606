import { join, resolve } from 'node:path';
import { createBackup } from '../backup/createBackup.js';
import { defaultDataDir } from '../config/defaultDataDir.js';
import { packageVersion } from '../config/packageRoot.js';
import { latestSchemaVersion } from '../store/migrate.js';
import { readSchemaVersion } from '../store/readSchemaVersion.js';
import { snapshotDatabase } from '../store/snapshotDatabase.js';
import { Store } from '../store/Store.js';
import { UsageError } from './parseServeOptions.js';

const DATABASE_FILE = 'inferbox.db';

/**
 * `inferbox backup [--output DIR]`: the same archive as POST /api/backup, from the shell (cron, a
 * stopped server). Works while the server runs: the snapshot is SQLite's online backup through a
 * second connection (WAL), and model files are written once, never changed.
 */
export async function backupCommand(flags: Record<string, string | undefined>, say: (line: string) => void): Promise<void> {
  const dataDir = flags['data-dir'] ?? process.env.INFERBOX_DATA_DIR ?? defaultDataDir();
  const databasePath = join(dataDir, DATABASE_FILE);
  const version = readSchemaVersion(databasePath);
  if (version === null) throw new UsageError(`there is no Inferbox database in ${dataDir} (use --data-dir or INFERBOX_DATA_DIR)`);
  const file = await createBackup(
    { dataDir, appVersion: packageVersion(), snapshotDatabase: (destination) => snapshotDatabase(databasePath, destination) },
    resolve(flags.output ?? join(dataDir, 'backups')),
    'manual',
  );
  // The audit row goes into a database at this version's schema only: opening an older one would migrate it.
  if (version === latestSchemaVersion()) {
    const store = Store.open(databasePath);
    try {
      store.audit.insert({ ts: new Date().toISOString(), actor_id: null, actor_name: 'cli', action: 'backup.create', target: file.name, details: { reason: file.reason, size_bytes: file.size_bytes }, remote_addr: null });
    } finally {
      store.close();
    }
  }
  say(`Backup written: ${file.path} (${file.size_bytes} bytes, schema ${file.schema_version}). It holds the TLS private key: keep it as safe as the server.`);
}
