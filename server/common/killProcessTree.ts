import type { ChildProcess } from 'node:child_process';

/** Windows has no process groups to signal; there only the child itself is killed. */
export const GROUP_KILL = process.platform !== 'win32';

/**
 * Kills a child started with `detached: GROUP_KILL` and everything it started: on POSIX its whole
 * process group (a probe's own children must not outlive it), on Windows the child alone.
 */
export function killProcessTree(child: ChildProcess): void {
  if (!GROUP_KILL || child.pid === undefined) {
    child.kill('SIGKILL');
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group has already exited.
  }
}
