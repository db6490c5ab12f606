import { randomBytes } from 'node:crypto';
import { chmod, copyFile, link, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create } from 'tar';
import { BACKUP_FORMAT, DATABASE_FILE, MANIFEST_FILE, type BackupManifest } from './backupManifest.js';
import { backupFileName } from './backupFileName.js';
import { listFiles } from './listFiles.js';
import { sha256File } from './sha256File.js';

/**
 * What a backup holds besides the database: the model files (every version and precision) and the
 * TLS pair. Not admin.key: it is the one raw key on disk, and the database already holds every
 * key's hash, so a restore makes a fresh admin key instead (docs/ARCHITECTURE.md, "Backup").
 * Not backups/, server.json (the running process) or the upload staging folder.
 */
export const MODELS_DIR = 'models';
const SKIPPED_IN_MODELS = '.incoming/';
export const TLS_FILES = ['tls.json', 'tls.crt'];

export interface BackupSource {
  dataDir: string;
  appVersion: string;
  /** Writes a consistent copy of the database to `destination` and returns its schema version. */
  snapshotDatabase(destination: string): Promise<number>;
}

export interface BackupFile {
  name: string;
  path: string;
  size_bytes: number;
  created_at: string;
  reason: string;
  schema_version: number;
}

/** A hard link costs no space and keeps the bytes even if the version is deleted meanwhile; across disks, a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') return; // deleted since it was listed: the database snapshot decides what is served
    await copyFile(from, to);
  }
}

async function stageModels(dataDir: string, staging: string): Promise<void> {
  const files = (await listFiles(join(dataDir, MODELS_DIR))).filter((f) => !f.startsWith(SKIPPED_IN_MODELS));
  for (const file of files) await linkOrCopy(join(dataDir, MODELS_DIR, file), join(staging, MODELS_DIR, file));
}

/**
 * Writes one archive (tar.gz) into `directory`: manifest.json (format, versions, SHA-256 of every
 * entry), the database snapshot, the model files and the TLS pair. Model files are staged before
 * and again after the snapshot, so every file the snapshot refers to is in the archive even when a
 * version is uploaded during the backup (model files are written once and never changed). The
 * archive appears under its final name only when complete (rename), readable by the owner only:
 * it holds the TLS private key.
 */
export async function createBackup(source: BackupSource, directory: string, reason: string, now: Date = new Date()): Promise<BackupFile> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const staging = join(directory, `.staging-${randomBytes(6).toString('hex')}`);
  const name = backupFileName(now, reason);
  const partial = join(directory, `.${name}.partial`);
  try {
    await mkdir(staging, { mode: 0o700 });
    await stageModels(source.dataDir, staging);
    const schemaVersion = await source.snapshotDatabase(join(staging, DATABASE_FILE));
    await stageModels(source.dataDir, staging);
    for (const file of TLS_FILES) await linkOrCopy(join(source.dataDir, file), join(staging, file));

    const files = (await listFiles(staging)).filter((f) => f !== MANIFEST_FILE);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      app_version: source.appVersion,
      schema_version: schemaVersion,
      created_at: now.toISOString(),
      reason,
      files: [],
    };
    for (const path of files) {
      const full = join(staging, path);
      manifest.files.push({ path, size: (await stat(full)).size, sha256: await sha256File(full) });
    }
    await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // Created empty with the owner-only mode first: tar then writes into it without widening it.
    await writeFile(partial, '', { mode: 0o600 });
    await chmod(partial, 0o600);
    await create({ gzip: true, file: partial, cwd: staging, portable: true }, [MANIFEST_FILE, ...files]);
    const path = join(directory, name);
    await rename(partial, path);
    return { name, path, size_bytes: (await stat(path)).size, created_at: manifest.created_at, reason, schema_version: schemaVersion };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}
