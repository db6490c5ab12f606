import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallTmpfs {
  path: string;
  /** Writes `filler` until the file system refuses (ENOSPC), then gives `leaveBytes` back. */
  fill(leaveBytes?: number): void;
  /** Removes the filler: the space is free again. */
  release(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a fresh temp folder, so a test can fill a real file system
 * without touching the machine's disks. Needs root (CI and this machine run tests as root); a
 * failed mount throws, so the test fails rather than skipping what it should prove.
 */
export async function mountSmallTmpfs(sizeBytes: number): Promise<SmallTmpfs> {
  const path = await mkdtemp(join(tmpdir(), 'inferbox-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw new Error(`could not mount a ${sizeBytes}-byte tmpfs (the disk-full tests need root): ${(error as Error).message}`);
  }
  const fillerPath = join(path, 'filler');
  return {
    path,
    fill(leaveBytes = 0) {
      const fd = openSync(fillerPath, 'a');
      try {
        for (const chunk of [Buffer.alloc(1024 * 1024, 1), Buffer.alloc(4096, 1)]) {
          for (;;) {
            try {
              writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
        if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
      } finally {
        closeSync(fd);
      }
    },
    release: () => rm(fillerPath, { force: true }),
    async unmount() {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      await rm(path, { recursive: true, force: true });
    },
  };
}
