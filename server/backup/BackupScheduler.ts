import type { BackupFile } from './createBackup.js';
import type { BackupService } from './BackupService.js';

/** How often the scheduler looks whether a backup is due; the interval itself is a setting in hours. */
const CHECK_MS = 60_000;

/**
 * Scheduled backups: every minute, asks whether one is due (backup_interval_hours, read each time,
 * so a changed setting applies without a restart) and makes it; retention is BackupService's.
 */
export class BackupScheduler {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> = Promise.resolve();

  constructor(private readonly backups: BackupService, private readonly events: { onCreated(file: BackupFile): void; onError(error: unknown): void }) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
    void this.check();
  }

  async check(now: Date = new Date()): Promise<void> {
    this.current = this.current.then(async () => {
      try {
        if (await this.backups.due(now)) this.events.onCreated(await this.backups.create('scheduled'));
      } catch (error) {
        this.events.onError(error);
      }
    });
    await this.current;
  }

  /** Stops the timer and waits for a backup in progress (it reads the database, which closes next). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current;
  }
}
