import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join, posix, resolve, sep, win32 } from 'node:path';
import { extract } from 'tar';
import { inferboxError, messageOf } from '../common/errors.js';
import { ServerStateFile } from '../config/ServerStateFile.js';
import { checkDatabaseFile } from '../store/checkDatabaseFile.js';
import { SchemaTooNewError } from '../store/migrate.js';
import { BACKUP_FORMAT, DATABASE_FILE, MANIFEST_FILE, backupManifestSchema, type BackupManifest } from './backupManifest.js';
import { MODELS_DIR, TLS_FILES, type BackupFile } from './createBackup.js';
import { listFiles } from './listFiles.js';
import { sha256File } from './sha256File.js';

export interface RestoreOptions {
  archive: string;
  dataDir: string;
  appVersion: string;
  latestSchemaVersion: number;
  /** Backs up what the data dir holds now, before it is replaced (called only when it has a database). */
  backupCurrent: () => Promise<BackupFile>;
  /**
   * Called once every check passed and the current state is backed up, before anything in the data
   * dir is replaced, with the staged database and the staging folder: it may open (migrate) the
   * database and write an `admin.key` into `stagingDir`, which then replaces the data dir's one.
   * A throw leaves the data dir as it was.
   */
  adopt?: (staged: { database: string; stagingDir: string; manifest: BackupManifest; previous: BackupFile | null }) => Promise<void>;
}

/**
 * What a restore replaces in the data dir; everything else (backups/, other files) stays. admin.key
 * goes (it belongs to the replaced database), and only when the restore succeeds: `adopt` writes
 * the new one into the staging folder and it comes in with the rest.
 */
const REPLACED = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, 'models', 'tls.json', 'tls.crt', 'admin.key'];

/** The largest manifest.json read (a real one lists every model file: a few hundred bytes each). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Entry types unpacked: regular files (and folders). Links, devices and fifos are refused. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/** Modes given to what is unpacked, whatever the archive says: no setuid/setgid/sticky bit, owner only (as the data dir). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Why `path` (from manifest.json) is not a plain relative path inside the archive, or null. */
function archivePathProblem(path: string): string | null {
  if (path === '') return 'it is empty';
  if (path.includes('\0')) return 'it holds a NUL character';
  if (path.includes('\\')) return 'it holds a backslash';
  if (posix.isAbsolute(path) || win32.isAbsolute(path)) return 'it is absolute';
  const segments = path.split('/');
  if (segments.includes('..')) return "it has a '..' segment";
  if (segments.some((s) => s === '' || s === '.')) return "it has an empty or '.' segment";
  // Only what createBackup writes: a staged inferbox.db-wal, say, would be moved in beside the
  // checked database and change it at the next open.
  if (path !== DATABASE_FILE && !TLS_FILES.includes(path) && !(segments[0] === MODELS_DIR && segments.length > 1)) return `a backup holds ${DATABASE_FILE}, ${MODELS_DIR}/… and ${TLS_FILES.join(', ')} only`;
  return null;
}

async function readManifest(staging: string, name: string): Promise<BackupManifest> {
  const path = join(staging, MANIFEST_FILE);
  const info = await lstat(path).catch(() => null);
  if (!info) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, 'it has no manifest.json (not an Inferbox backup)');
  if (!info.isFile()) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, 'its manifest.json is not a regular file');
  if (info.size > MAX_MANIFEST_BYTES) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its manifest.json is ${info.size} bytes (at most ${MAX_MANIFEST_BYTES})`);
  const text = await readFile(path, 'utf8');
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

/**
 * Every file present, none extra, each a regular file inside the staging folder with the size and
 * SHA-256 the manifest recorded. The manifest's paths are checked before any is used: a path with
 * '..' or an absolute one would otherwise hash (and "verify") a file outside the archive, and a
 * device such as /dev/zero would be read forever.
 */
async function verifyFiles(staging: string, manifest: BackupManifest, name: string): Promise<void> {
  const listed = new Set<string>();
  for (const file of manifest.files) {
    const problem = archivePathProblem(file.path);
    if (problem) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `manifest.json lists '${file.path}', which is not a file inside the archive (${problem})`);
    if (listed.has(file.path)) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `manifest.json lists '${file.path}' twice`);
    listed.add(file.path);
  }
  const present = (await listFiles(staging)).filter((f) => f !== MANIFEST_FILE);
  const extra = present.find((f) => !listed.has(f));
  if (extra) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${extra}' is not in the manifest`);
  for (const file of manifest.files) {
    const full = resolve(staging, ...file.path.split('/'));
    if (!full.startsWith(staging + sep)) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `manifest.json lists '${file.path}', which is not a file inside the archive (it resolves outside)`);
    const info = await lstat(full).catch(() => null);
    if (!info) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${file.path}' is missing`);
    if (!info.isFile()) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${file.path}' is not a regular file`);
    if (info.size !== file.size || (await sha256File(full, file.size)) !== file.sha256) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `'${file.path}' does not match its checksum (damaged)`);
    // Unpacked already without special bits (see unpack); set again here so that no other path can bring one in.
    await chmod(full, FILE_MODE);
  }
  if (!listed.has(DATABASE_FILE)) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, 'it holds no database');
}

/**
 * Unpacks into `staging` only regular files and folders, with owner-only modes (no setuid/setgid
 * from the archive), and no more bytes than the disk has free. Links, devices and fifos are
 * refused, not skipped, so the error names them.
 */
async function unpack(archive: string, staging: string, name: string, freeBytes: number): Promise<void> {
  const refused: string[] = [];
  let total = 0;
  try {
    await extract({
      file: archive,
      cwd: staging,
      // strict: a damaged entry or a path that escapes the folder is an error, not a warning.
      strict: true,
      filter: (path, entry) => {
        if (!('type' in entry)) return false;
        if (entry.type === 'Directory') {
          entry.mode = DIR_MODE;
          return true;
        }
        if (!FILE_TYPES.has(entry.type)) {
          refused.push(`'${path}' is a ${entry.type} (a backup holds regular files only)`);
          return false;
        }
        total += entry.size;
        if (total > freeBytes) {
          refused.push(`it unpacks to more than the ${Math.floor(freeBytes / 1048576)} MB free on the data folder's disk`);
          return false;
        }
        if (path === MANIFEST_FILE && entry.size > MAX_MANIFEST_BYTES) {
          refused.push(`its manifest.json is ${entry.size} bytes (at most ${MAX_MANIFEST_BYTES})`);
          return false;
        }
        entry.mode = FILE_MODE;
        return true;
      },
    });
  } catch (error) {
    throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `it does not unpack as a tar.gz archive (${messageOf(error)})`);
  }
  if (refused.length > 0) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, refused[0]);
}

/**
 * Moves the data dir's REPLACED entries aside (into the staging folder) and the staged ones in;
 * a failure midway moves everything back, so the data dir is either as it was or fully restored.
 */
async function swapIn(staging: string, dataDir: string): Promise<void> {
  const aside = join(staging, '.replaced');
  await mkdir(aside, { mode: 0o700 });
  const movedAside: string[] = [];
  const movedIn: string[] = [];
  const move = async (from: string, to: string): Promise<boolean> => {
    try {
      await rename(from, to);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // a backup of a server without models or TLS has none
      throw error;
    }
  };
  try {
    for (const entry of REPLACED) if (await move(join(dataDir, entry), join(aside, entry))) movedAside.push(entry);
    for (const entry of REPLACED) if (await move(join(staging, entry), join(dataDir, entry))) movedIn.push(entry);
  } catch (error) {
    for (const entry of movedIn) await rm(join(dataDir, entry), { recursive: true, force: true });
    for (const entry of movedAside) await rename(join(aside, entry), join(dataDir, entry));
    throw error;
  }
}

/**
 * Restores an archive of createBackup into a data dir no server is using. Everything is checked
 * before anything is replaced: the archive unpacks (regular files only, no paths outside it, no
 * more than the disk holds; modes owner-only, never setuid/setgid), its manifest is of a format and
 * schema this version knows and lists only plain relative paths, every file matches its checksum,
 * and the database is whole (checkDatabaseFile: integrity, the tables of its schema, the remaining
 * migrations apply). Then the current state is backed up (pre-restore), `adopt` prepares the staged
 * database, and the data dir's entries are swapped for the staged ones. The staging folder goes in
 * every case.
 */
export async function restoreBackup(options: RestoreOptions): Promise<{ manifest: BackupManifest; previous: BackupFile | null }> {
  const name = options.archive;
  const running = new ServerStateFile(options.dataDir).readLive();
  if (running) throw inferboxError('IBX_ERR_DATA_DIR_IN_USE', options.dataDir, running.pid);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const staging = join(resolve(options.dataDir), `.restore-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging, { mode: 0o700 });
    const disk = await statfs(options.dataDir);
    await unpack(options.archive, staging, name, disk.bavail * disk.bsize);
    const manifest = await readManifest(staging, name);
    if (manifest.format > BACKUP_FORMAT || manifest.schema_version > options.latestSchemaVersion) {
      throw inferboxError('IBX_ERR_BACKUP_TOO_NEW', name, `Inferbox ${manifest.app_version}, archive format ${manifest.format}, schema ${manifest.schema_version}`, `${options.appVersion}: format ${BACKUP_FORMAT}, schema ${options.latestSchemaVersion}`);
    }
    await verifyFiles(staging, manifest, name);
    const database = join(staging, DATABASE_FILE);
    let check;
    try {
      check = checkDatabaseFile(database);
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw inferboxError('IBX_ERR_BACKUP_TOO_NEW', name, `schema ${error.found}`, `${options.appVersion}: schema ${error.latest}`);
      throw error;
    }
    if (check.problem !== null) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its database ${check.problem}`);
    if (check.version !== manifest.schema_version) throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its database has schema ${check.version}, the manifest says ${manifest.schema_version}`);

    const hasDatabase = await stat(join(options.dataDir, DATABASE_FILE)).then(() => true, () => false);
    const previous = hasDatabase ? await options.backupCurrent() : null;
    try {
      await options.adopt?.({ database, stagingDir: staging, manifest, previous });
    } catch (error) {
      throw inferboxError('IBX_ERR_BACKUP_INVALID', name, `its database could not be prepared (${messageOf(error)})`);
    }
    await swapIn(staging, options.dataDir);
    return { manifest, previous };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
