import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar';
import { inferboxError, messageOf } from '../common/errors.js';
import { ServerStateFile } from '../config/ServerStateFile.js';
import { SchemaTooNewError } from '../store/migrate.js';
import { readSchemaVersion } from '../store/readSchemaVersion.js';
import { BACKUP_FORMAT, DATABASE_FILE, MANIFEST_FILE, backupManifestSchema, type BackupManifest } from './backupManifest.js';
import type { BackupFile } from './createBackup.js';
import { listFiles } from './listFiles.js';
import { sha256File } from './sha256File.js';

export interface RestoreOptions {
  archive: string;
  dataDir: string;
  appVersion: string;
  latestSchemaVersion: number;
  /** Backs up what the data dir holds now, before it is replaced (called only when it has a database). */
  backupCurrent: () => Promise<BackupFile>;
}

/** What a restore replaces in the data dir; everything else (backups/, other files) stays. admin.key goes: it belongs to the replaced database. */
const REPLACED = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, 'models', 'tls.json', 'tls.crt', 'admin.key'];

async function readManifest(staging: string, name: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(join(staging, MANIFEST_FILE), 'utf8');
  } catch {
    throw inferboxError('IBX_ERR_BACKUP_INVALID', name, 'it has no manifest.json (not an Inferbox backup)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `manifest.json is not JSON (${messageOf(error)})`);
  }
  const result = backupManifestSchema.safeParse(parsed);
  if (!result.success) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `manifest.json: ${result.error.issues[0]?.path.join('.')} ${result.error.issues[0]?.message}`);
  return result.data;
}

/** Every file present, none extra, each with the size and SHA-256 the manifest recorded. */
async function verifyFiles(staging: string, manifest: BackupManifest, name: string): Promise<void> {
  const present = (await listFiles(staging)).filter((f) => f !== MANIFEST_FILE);
  const listed = new Set(manifest.files.map((f) => f.path));
  const extra = present.find((f) => !listed.has(f));
  if (extra) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${extra}' is not in the manifest`);
  for (const file of manifest.files) {
    const full = join(staging, file.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${file.path}' is missing`);
    }
    if (size !== file.size || (await sha256File(full)) !== file.sha256) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${file.path}' does not match its checksum (damaged)`);
  }
  if (!listed.has(DATABASE_FILE)) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, 'it holds no database');
}

/**
 * Restores an archive of createBackup into a data dir no server is using. Everything is checked
 * before anything is replaced: the archive unpacks (no links, no paths outside it), its manifest
 * is of a format and schema this version knows, every file matches its checksum, and the database
 * opens at the manifest's schema version. Then the current state is backed up (pre-restore) and
 * replaced; an older schema is migrated at the next start (after its own pre-migration backup).
 */
export async function restoreBackup(options: RestoreOptions): Promise<{ manifest: BackupManifest; previous: BackupFile | null }> {
  const name = options.archive;
  const running = new ServerStateFile(options.dataDir).readLive();
  if (running) throw inferboxError('IBX_ERR_DATA_DIR_IN_USE', options.dataDir, running.pid);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const staging = join(options.dataDir, `.restore-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging, { mode: 0o700 });
    try {
      // strict: a damaged entry or a path that escapes the folder is an error, not a warning.
      await extract({ file: options.archive, cwd: staging, strict: true, filter: (_path, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory') });
    } catch (error) {
      throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `it does not unpack as a tar.gz archive (${messageOf(error)})`);
    }
    const manifest = await readManifest(staging, name);
    if (manifest.format > BACKUP_FORMAT || manifest.schema_version > options.latestSchemaVersion) {
      throw inferboxError('IBX_ERR_BACKUP_TOO_NEW', name, `Inferbox ${manifest.app_version}, archive format ${manifest.format}, schema ${manifest.schema_version}`, `${options.appVersion}: format ${BACKUP_FORMAT}, schema ${options.latestSchemaVersion}`);
    }
    await verifyFiles(staging, manifest, name);
    let version: number | null;
    try {
      version = readSchemaVersion(join(staging, DATABASE_FILE));
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw inferboxError('IBX_ERR_BACKUP_TOO_NEW', name, `schema ${error.found}`, `${options.appVersion}: schema ${error.latest}`);
      throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its database does not open (${messageOf(error)})`);
    }
    if (version !== manifest.schema_version) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its database has schema ${version}, the manifest says ${manifest.schema_version}`);

    const hasDatabase = await stat(join(options.dataDir, DATABASE_FILE)).then(() => true, () => false);
    const previous = hasDatabase ? await options.backupCurrent() : null;
    for (const entry of REPLACED) await rm(join(options.dataDir, entry), { recursive: true, force: true });
    for (const entry of [DATABASE_FILE, 'models', 'tls.json', 'tls.crt']) {
      await rename(join(staging, entry), join(options.dataDir, entry)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error; // a backup of a server without models or TLS has none
      });
    }
    return { manifest, previous };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
