import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GROUP_KILL, killProcessTree } from './killProcessTree.js';

/** The end of the child's stderr kept in a reason. */
const STDERR_LIMIT = 400;
/** How long an ended child's stderr may take to reach us before the reason is given without the rest. */
const STDERR_GRACE_MS = 200;

/** The child ended without answering (a crash, a signal, a kill for its memory): what it said last is kept. */
export class ChildProcessEnded extends Error {
  constructor(message: string, readonly stderr: string, readonly signal: NodeJS.Signals | null) {
    super(message);
    this.name = 'ChildProcessEnded';
  }
}

export interface ChildProcessOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Node flags beyond this process's own (which `fork` carries: tsx under the tests). */
  extraExecArgv?: string[];
  /** Which message is the reply (default: the first); the others go to `onMessage` (progress). */
  isReply?: (message: unknown) => boolean;
  onMessage?: (message: unknown) => void;
}

/**
 * Runs `module` in a child process of its own: sends it `request` and resolves with the first
 * message it sends back (or the first `isReply` accepts; the others before it go to `onMessage`). Rejects when it crashes or exits without answering (ChildProcessEnded),
 * outlives `timeoutMs` or `signal` aborts (the child is killed, with anything it started). `what`
 * names the work in those reasons ("the comparison took over 60 s and was ended"). Node's `fork`
 * carries this process's loader flags and environment (ELECTRON_RUN_AS_NODE in the app); the
 * server survives whatever happens in the child.
 */
export function runInChildProcess<Reply>(module: URL, request: unknown, what: string, options: ChildProcessOptions): Promise<Reply> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(new Error(`the ${what} was stopped`));
  const child = fork(fileURLToPath(module), [], {
    // Structured clone: typed arrays (int64 included) cross as they are.
    serialization: 'advanced',
    // Dawn prints its warnings on stdout; only stderr can explain a failure.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: GROUP_KILL,
    execArgv: [...process.execArgv, ...(options.extraExecArgv ?? [])],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_LIMIT); });
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const stop = (why: string) => settle(() => {
      killProcessTree(child);
      reject(new Error(why));
    });
    const onAbort = () => stop(`the ${what} was stopped`);
    const timer = setTimeout(() => stop(`the ${what} took over ${timeoutMs / 1000} s and was ended`), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (message: Reply) => {
      if (!options.isReply || options.isReply(message)) settle(() => resolve(message));
      else if (!settled) options.onMessage?.(message);
    });
    child.once('error', (error) => settle(() => reject(error)));
    child.once('exit', (code, killedBy) => {
      // The stderr pipe may still hold the child's last words: read them before giving the reason
      // (briefly: a process it started could hold the pipe open).
      const ended = () => settle(() => reject(new ChildProcessEnded(
        `the ${what} process ${killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`, stderr, killedBy)));
      if (child.stderr!.closed) ended();
      child.stderr!.once('close', ended);
      setTimeout(ended, STDERR_GRACE_MS).unref();
    });
    child.send(request as object);
  });
}
