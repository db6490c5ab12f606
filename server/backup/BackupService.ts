import { readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { inferboxError } from '../common/errors.js';
import { BACKUP_NAME } from './backupFileName.js';
import { createBackup, type BackupFile, type BackupSource } from './createBackup.js';

export interface BackupSettings {
  /** Where archives go; empty = `<data-dir>/backups`. */
  directory: string;
  intervalHours: number;
  keep: number;
}

export interface ListedBackup {
  name: string;
  size_bytes: number;
  created_at: string;
  reason: string;
}

/** The running server's backups: make one (one at a time), list, find one to download, drop the oldest beyond `keep`. */
export class BackupService {
  private running: Promise<BackupFile> | null = null;

  constructor(private readonly source: BackupSource, private readonly settings: () => BackupSettings) {}

  get directory(): string {
    const configured = this.settings().directory;
    if (!configured) return join(this.source.dataDir, 'backups');
    return isAbsolute(configured) ? configured : join(this.source.dataDir, configured);
  }

  /** A second request while one runs gets the same archive: two snapshots a second apart hold the same data. */
  create(reason: 'manual' | 'scheduled'): Promise<BackupFile> {
    this.running ??= createBackup(this.source, this.directory, reason)
      .then(async (file) => {
        await this.prune();
        return file;
      })
      .finally(() => { this.running = null; });
    return this.running;
  }

  async list(): Promise<ListedBackup[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const backups: ListedBackup[] = [];
    for (const name of names) {
      const match = BACKUP_NAME.exec(name);
      if (!match) continue;
      const [, at, reason] = match as unknown as [string, string, string];
      const created = `${at.slice(0, 4)}-${at.slice(4, 6)}-${at.slice(6, 8)}T${at.slice(9, 11)}:${at.slice(11, 13)}:${at.slice(13, 15)}.${at.slice(15, 18)}Z`;
      const info = await stat(join(this.directory, name)).catch(() => null);
      if (info?.isFile()) backups.push({ name, size_bytes: info.size, created_at: created, reason });
    }
    return backups.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** The archive's path; only names this service writes are served, so no other file can be reached. */
  async pathOf(name: string): Promise<string> {
    if (!BACKUP_NAME.test(name) || !(await this.list()).some((b) => b.name === name)) throw inferboxError('IBX_ERR_BACKUP_NOT_FOUND', name);
    return join(this.directory, name);
  }

  /** When the newest scheduled or manual backup is older than the interval (the clock survives restarts: it is the newest file's name). */
  async due(now: Date = new Date()): Promise<boolean> {
    const hours = this.settings().intervalHours;
    if (hours <= 0) return false;
    const newest = (await this.list()).find((b) => b.reason === 'scheduled' || b.reason === 'manual');
    return !newest || now.getTime() - Date.parse(newest.created_at) >= hours * 3_600_000;
  }

  /**
   * Keeps the newest `keep` archives of each reason: scheduled ones cannot push out the
   * pre-migration backup an upgrade made, nor a manual one.
   */
  async prune(): Promise<string[]> {
    const keep = this.settings().keep;
    const seen = new Map<string, number>();
    const removed: string[] = [];
    for (const backup of await this.list()) {
      const count = (seen.get(backup.reason) ?? 0) + 1;
      seen.set(backup.reason, count);
      if (count > keep) {
        await rm(join(this.directory, backup.name), { force: true });
        removed.push(backup.name);
      }
    }
    return removed;
  }
}
