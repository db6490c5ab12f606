import { runInChildProcess } from '../common/runInChildProcess.js';
import { siblingModule } from '../common/spawnWorker.js';
import type { SessionComparison } from './compareSessions.js';
import type { CompareRequest } from './workerProtocol.js';

/**
 * Compares one file on two sets of session settings in a child process of its own
 * (comparisonProcess): rejects with the child's error, or when it crashes, outlives `timeoutMs`
 * or `signal` aborts (the child is killed, with anything it started).
 */
export async function compareInChildProcess(request: CompareRequest, options: { timeoutMs: number; signal?: AbortSignal }): Promise<SessionComparison> {
  const reply = await runInChildProcess<{ ok: true; result: SessionComparison } | { ok: false; error: string }>(
    siblingModule(import.meta.url, 'comparisonProcess'), request, 'comparison', options);
  if (!reply.ok) throw new Error(reply.error);
  return reply.result;
}
