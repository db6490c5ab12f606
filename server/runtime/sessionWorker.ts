/**
 * Inference worker: owns onnxruntime sessions and runs them off the HTTP thread.
 * onnxruntime-node's session.run is synchronous on the calling thread (DESIGN.md), so each
 * worker runs one inference at a time and the pool spreads requests across workers.
 */
import { parentPort } from 'node:worker_threads';
import { transferablesOf } from '../common/datatypes.js';
import { OrtSessions, SessionUnavailable } from './OrtSessions.js';
import type { WorkerCloseRequest, WorkerReply, WorkerRequest } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('sessionWorker must run in a worker thread');

const sessions = new OrtSessions();

/** Each reply with the buffers it hands over (run outputs move, they are not cloned). */
async function handle(request: WorkerRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'load':
      return { result: await sessions.load(request.key, request.path, request.settings), transfer: [] };
    case 'run': {
      const result = await sessions.run(request.key, request.feeds, request.outputNames);
      return { result, transfer: transferablesOf(Object.values(result.outputs)) };
    }
    case 'unload':
      await sessions.unload(request.key);
      return { result: null, transfer: [] };
  }
}

/** Requests being handled: a close waits for them, so no session is released under a run. */
const underWay = new Set<Promise<unknown>>();

port.on('message', (request: WorkerRequest | WorkerCloseRequest) => {
  if (request.kind === 'close') {
    void Promise.allSettled(underWay).then(() => sessions.unloadAll()).finally(() => port.close());
    return;
  }
  const handled = handle(request).then(
    ({ result, transfer }) => port.postMessage({ id: request.id, ok: true, result } satisfies WorkerReply, transfer),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        unavailable: error instanceof SessionUnavailable,
      } satisfies WorkerReply),
  );
  underWay.add(handled);
  void handled.finally(() => underWay.delete(handled));
});
