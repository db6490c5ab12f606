import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GROUP_KILL, killProcessTree } from '../common/killProcessTree.js';
import { siblingModule } from '../common/spawnWorker.js';
import type { SessionComparison } from './compareSessions.js';
import type { CompareRequest } from './workerProtocol.js';

/** The end of the child's stderr kept in a reason. */
const STDERR_LIMIT = 400;

/**
 * Compares one file on two sets of session settings in a child process of its own
 * (comparisonProcess): rejects with the child's error, or when it crashes, outlives `timeoutMs`
 * or `signal` aborts (the child is killed, with anything it started). Node's `fork` carries this
 * process's loader flags (tsx under the tests) and environment (ELECTRON_RUN_AS_NODE in the app).
 */
export function compareInChildProcess(request: CompareRequest, options: { timeoutMs: number; signal?: AbortSignal }): Promise<SessionComparison> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(new Error('the comparison was stopped'));
  const child = fork(fileURLToPath(siblingModule(import.meta.url, 'comparisonProcess')), [], {
    // Structured clone: typed arrays (int64 included) cross as they are.
    serialization: 'advanced',
    // Dawn prints its warnings on stdout; only stderr can explain a failure.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: GROUP_KILL,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_LIMIT); });
  return new Promise<SessionComparison>((resolve, reject) => {
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
    const onAbort = () => stop('the comparison was stopped');
    const timer = setTimeout(() => stop(`the comparison took over ${timeoutMs / 1000} s and was ended`), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('message', (reply: { ok: true; result: SessionComparison } | { ok: false; error: string }) =>
      settle(() => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error)))));
    child.once('error', (error) => settle(() => reject(error)));
    child.once('exit', (code, killedBy) =>
      settle(() => reject(new Error(`the comparison process ${killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`))));
    child.send(request);
  });
}
