import { readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** What a running server writes into its data dir, so others find it: the desktop app (to attach instead of starting a second server) and `restore` (to refuse). */
export interface ServerState {
  pid: number;
  version: string;
  started_at: string;
  /** Every URL it answers on; the first loopback one is what a local client uses. */
  urls: string[];
  /** SHA-256 of the serving certificate (colon hex) for pinning, when it serves HTTPS. */
  tls_fingerprint: string | null;
}

export const SERVER_STATE_FILE = 'server.json';

/** Whether a process with this id exists: signal 0 checks without sending; EPERM means it exists but belongs to another user (the service account). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `<data-dir>/server.json`: written when the server listens, removed when it closes. After a crash it
 * stays behind, so readers check that its process still lives (`readLive`); a stale file is ignored.
 * Synchronous on purpose: it is removed on the way out, where nothing async may be left to run.
 */
export class ServerStateFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, SERVER_STATE_FILE);
  }

  write(state: ServerState): void {
    const temporary = `${this.path}.${state.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
    renameSync(temporary, this.path);
  }

  /** Removes the file only while it is still ours: a second server that took the data dir over keeps its own. */
  remove(pid: number = process.pid): void {
    if (this.read()?.pid === pid) rmSync(this.path, { force: true });
  }

  read(): ServerState | null {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<ServerState>;
      if (typeof parsed.pid !== 'number' || !Array.isArray(parsed.urls)) return null;
      return { pid: parsed.pid, version: String(parsed.version ?? ''), started_at: String(parsed.started_at ?? ''), urls: parsed.urls.map(String), tls_fingerprint: typeof parsed.tls_fingerprint === 'string' ? parsed.tls_fingerprint : null };
    } catch {
      return null; // missing or half-written: no server to find
    }
  }

  /** The state of a server whose process is alive, else null. */
  readLive(): ServerState | null {
    const state = this.read();
    return state && isProcessAlive(state.pid) ? state : null;
  }
}
