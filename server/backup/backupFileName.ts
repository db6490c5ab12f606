/** inferbox-backup-<UTC time to the millisecond>-<reason>.tar.gz: sorts by time, and says why it exists. */
export const BACKUP_NAME = /^inferbox-backup-(\d{8}T\d{9}Z)-([a-z-]+)\.tar\.gz$/;

export function backupFileName(at: Date, reason: string): string {
  return `inferbox-backup-${at.toISOString().replace(/[-:.]/g, '')}-${reason}.tar.gz`;
}
