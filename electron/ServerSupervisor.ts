import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { applianceRequest } from './applianceRequest.js';
import { isLoopbackHost } from './loopback.js';

/**
 * The slice of a child process the supervisor uses. Node's `ChildProcess` has it; the desktop app
 * passes one spawned from Electron's own binary run as Node, the tests one spawned from `node`.
 */
export interface ServerProcess {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  /** Present when the child was spawned with an IPC channel (used to ask for a drain on Windows). */
  send?(message: unknown): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** How to start the server's CLI (`inferbox serve` + the given arguments) in another process. */
export type SpawnServer = (args: string[]) => ServerProcess;

/** What the server printed when it became ready. */
export interface ServerInfo {
  pid: number | undefined;
  /** Every URL it answers on, as printed. */
  urls: string[];
  /** The loopback URL the window loads (http://127.0.0.1:P or https://localhost:P). */
  localUrl: string;
  /** SHA-256 of its certificate (colon hex, as printed), when it serves HTTPS. */
  tlsFingerprint: string | null;
  adminKeyPath: string | null;
  /** A server this app did not start (the system service): never stopped or restarted from here. */
  attached?: boolean;
}

export type SupervisorState =
  | { kind: 'starting'; attempt: number }
  | ({ kind: 'ready' } & ServerInfo)
  /** The process ended without being asked to (or never became ready); a restart is planned. */
  | { kind: 'crashed'; code: number | null; signal: NodeJS.Signals | null; reason: string; failures: number; restartInMs: number }
  /** Too many failures in a row: no more restarts until `start()` is called again. */
  | { kind: 'failed'; code: number | null; signal: NodeJS.Signals | null; reason: string; failures: number }
  | { kind: 'stopping' }
  /** Stopped on request (quit or pause). */
  | { kind: 'stopped'; code: number | null; signal: NodeJS.Signals | null };

export interface SupervisorOptions {
  spawn: SpawnServer;
  /** `serve` flags: --host, --port, --tls, --data-dir (…). */
  args: string[];
  onState(state: SupervisorState): void;
  /** Each line the server writes that is not part of the ready banner (pino JSON logs, errors). */
  onLog?(line: string, stream: 'stdout' | 'stderr'): void;
  /** First restart delay; doubled after each failure in a row (default 1 s). */
  backoffInitialMs?: number;
  /** The longest delay between restarts (default 30 s). */
  backoffMaxMs?: number;
  /** Failures in a row before giving up (default 6: with the defaults ~31 s of trying). */
  maxConsecutiveFailures?: number;
  /** A server that stayed ready this long has its failure count reset (default 60 s). */
  stableAfterMs?: number;
  /** A start that has not become ready by then is killed and counted as a failure (default 120 s: first start installs the default model). */
  readyTimeoutMs?: number;
  /** How long a drain may take after SIGTERM before the process is killed (default 15 s). */
  drainTimeoutMs?: number;
  /** Poll period of /v2/health/ready after the banner (default 100 ms). */
  healthPollMs?: number;
  platform?: NodeJS.Platform;
  /** Finds a server already serving the data dir (findRunningServer); `start()` attaches to it instead of spawning. */
  findRunning?: () => Promise<ServerInfo | null>;
}

const READY_LINE = /^Inferbox is ready in \d+ ms/;
const URL_LINE = /^\s+(https?:\/\/\S+)$/;
const FINGERPRINT_LINE = /fingerprint: ([0-9A-F:]+)$/i;
const ADMIN_KEY_FILE_LINE = /^Admin key file: (.+)$/;
const ADMIN_KEY_SHOWN_LINE = /^Admin key \(shown this once; also in (.+)\):$/;
/** The CLI's last banner line: after it, the banner is complete. */
const BANNER_END = /^(Admin key file: |Admin key \(shown)/;
const STOP_MESSAGE = 'inferbox:stop';

/** The loopback URL among the printed ones: 127.x or [::1] for a loopback bind, localhost for a wildcard bind. */
export function pickLocalUrl(urls: string[]): string | null {
  return urls.find((u) => isLoopbackHost(new URL(u).hostname)) ?? null;
}

/**
 * Runs the headless server (`inferbox serve`) as a child process and keeps it running: waits until
 * it printed its banner and `/v2/health/ready` answers 200, restarts it with exponential backoff
 * when it dies, gives up (and says so) after too many failures in a row, and on `stop()` lets it
 * drain — SIGTERM makes the CLI call `close()`, which finishes requests in flight — killing it only
 * after `drainTimeoutMs`. Every change goes to `onState`, so the tray and the window can tell the user.
 */
export class ServerSupervisor {
  private readonly o: Required<Omit<SupervisorOptions, 'onLog' | 'findRunning'>> & Pick<SupervisorOptions, 'onLog' | 'findRunning'>;
  /** A start in progress that first looks for a running server. */
  private looking = false;
  private child: ServerProcess | null = null;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private attempt = 0;
  /** Set by stop(): the next exit is expected, not a crash. */
  private wanted = false;
  private current: SupervisorState = { kind: 'stopped', code: null, signal: null };

  constructor(options: SupervisorOptions) {
    this.o = {
      backoffInitialMs: 1000,
      backoffMaxMs: 30_000,
      maxConsecutiveFailures: 6,
      stableAfterMs: 60_000,
      readyTimeoutMs: 120_000,
      drainTimeoutMs: 15_000,
      healthPollMs: 100,
      platform: process.platform,
      ...options,
    };
  }

  get state(): SupervisorState {
    return this.current;
  }

  /** The delay before restart number `failures` (1-based): initial × 2^(failures-1), capped. */
  static backoffDelay(failures: number, initialMs: number, maxMs: number): number {
    return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
  }

  /** Starts the server (also after `failed` or `stopped`: resume). No-op while it runs. */
  start(): void {
    if (this.child || this.looking || (this.current.kind === 'ready' && this.current.attached)) return;
    this.clearRestart();
    this.wanted = true;
    if (this.current.kind === 'failed' || this.current.kind === 'stopped') this.failures = 0;
    if (!this.o.findRunning) {
      this.launch();
      return;
    }
    this.looking = true;
    void this.o.findRunning().then((running) => {
      this.looking = false;
      if (!this.wanted || this.child) return;
      if (running) this.setState({ kind: 'ready', ...running, attached: true });
      else this.launch();
    });
  }

  /**
   * Stops the server and waits for the process to exit: a drain first (SIGTERM on POSIX; on Windows,
   * where SIGTERM kills outright, a stop message over the IPC channel), then a kill after the timeout.
   * No restart follows. Used for quit and for "pause serving".
   */
  async stop(): Promise<void> {
    this.wanted = false;
    this.clearRestart();
    if (this.current.kind === 'ready' && this.current.attached) {
      // Not ours: detaching leaves the service serving.
      this.setState({ kind: 'stopped', code: null, signal: null });
      return;
    }
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) {
      if (this.current.kind !== 'stopped') this.setState({ kind: 'stopped', code: null, signal: null });
      return;
    }
    this.setState({ kind: 'stopping' });
    if (this.o.platform === 'win32' && child.send) child.send(STOP_MESSAGE);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.o.drainTimeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Drains the running server and starts it again with other arguments (the desktop app's switch
   * between this computer only and the office network). The new process gets a fresh backoff.
   */
  async restartWith(args: string[]): Promise<void> {
    await this.stop();
    this.o.args = args;
    this.start();
  }

  private launch(): void {
    this.attempt += 1;
    const attempt = this.attempt;
    this.setState({ kind: 'starting', attempt });
    const child = this.o.spawn(['serve', ...this.o.args]);
    this.child = child;
    const stderrTail: string[] = [];
    let bannerDone = false;
    const info: ServerInfo = { pid: child.pid, urls: [], localUrl: '', tlsFingerprint: null, adminKeyPath: null };
    let inBanner = false;

    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const readyTimer = setTimeout(() => {
      if (this.child === child && this.current.kind === 'starting') {
        stderrTail.push(`not ready after ${this.o.readyTimeoutMs} ms`);
        child.kill('SIGKILL');
      }
    }, this.o.readyTimeoutMs);

    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!bannerDone) {
          if (READY_LINE.test(line)) { inBanner = true; return; }
          if (inBanner) {
            const url = URL_LINE.exec(line);
            if (url) { info.urls.push(url[1]!); return; }
            const fingerprint = FINGERPRINT_LINE.exec(line);
            if (fingerprint) { info.tlsFingerprint = fingerprint[1]!; return; }
            const keyPath = ADMIN_KEY_FILE_LINE.exec(line) ?? ADMIN_KEY_SHOWN_LINE.exec(line);
            if (keyPath) info.adminKeyPath = keyPath[1]!;
            if (BANNER_END.test(line)) {
              bannerDone = true;
              void this.awaitHealthy(child, info, stderrTail);
            }
            return;
          }
        }
        this.o.onLog?.(line, 'stdout');
      });
    }
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        this.o.onLog?.(line, 'stderr');
      });
    }

    void this.exited.then(({ code, signal }) => {
      clearTimeout(readyTimer);
      this.clearStable();
      if (this.child === child) {
        this.child = null;
        this.exited = null;
      }
      if (!this.wanted) {
        this.setState({ kind: 'stopped', code, signal });
        return;
      }
      this.failures += 1;
      const reason = stderrTail.filter((l) => l.trim()).slice(-3).join('\n') || (signal ? `killed by ${signal}` : `exited with code ${code}`);
      if (this.failures >= this.o.maxConsecutiveFailures) {
        this.wanted = false;
        this.setState({ kind: 'failed', code, signal, reason, failures: this.failures });
        return;
      }
      const restartInMs = ServerSupervisor.backoffDelay(this.failures, this.o.backoffInitialMs, this.o.backoffMaxMs);
      this.setState({ kind: 'crashed', code, signal, reason, failures: this.failures, restartInMs });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.wanted && !this.child) this.launch();
      }, restartInMs);
    });
  }

  /** The banner says it listens; ready means the models it should serve are loaded too. */
  private async awaitHealthy(child: ServerProcess, info: ServerInfo, stderrTail: string[]): Promise<void> {
    const localUrl = pickLocalUrl(info.urls);
    if (!localUrl) {
      stderrTail.push(`the server printed no loopback URL (${info.urls.join(', ')}); the desktop app needs one`);
      child.kill('SIGKILL');
      return;
    }
    info.localUrl = localUrl;
    while (this.child === child && this.current.kind === 'starting') {
      try {
        const response = await applianceRequest(`${localUrl}/v2/health/ready`, { fingerprint256: info.tlsFingerprint, timeoutMs: 2000 });
        if (response.status === 200) break;
      } catch {
        // not answering yet (or answering with a certificate that is not the one it printed): poll again
      }
      await new Promise((resolve) => setTimeout(resolve, this.o.healthPollMs));
    }
    if (this.child !== child || this.current.kind !== 'starting') return;
    this.setState({ kind: 'ready', ...info });
    this.stableTimer = setTimeout(() => { this.failures = 0; }, this.o.stableAfterMs);
  }

  private setState(state: SupervisorState): void {
    this.current = state;
    this.o.onState(state);
  }

  private clearRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private clearStable(): void {
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }
}
