import type { Worker } from 'node:worker_threads';
import { InferboxError, inferboxError } from '../common/errors.js';
import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import { SessionRunError } from './SessionRunError.js';
import { transferablesOf, type RuntimeTensor } from '../common/datatypes.js';
import { epochMs, type LoadResult, type RunResult, type SessionSettings, type WorkerReply, type WorkerRequest } from './workerProtocol.js';

export interface PoolSettings extends SessionSettings {
  /** Worker threads, each holding its own session of every loaded model (instances beat intra-op threads at batch 1). */
  instances: number;
}

export interface PoolRunResult {
  outputs: Record<string, RuntimeTensor>;
  /** ms from dispatch to the worker starting the run (waiting behind other runs). */
  queueMs: number;
  inferMs: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type WorkerRequestBody = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** One worker thread and the requests it has not answered yet. */
class WorkerSlot {
  readonly pending = new Map<number, Pending>();
  ready: Promise<void>;
  private nextId = 1;

  /** The uncaught error that ended the worker, if any, for the log line about its replacement. */
  lastError: Error | undefined;

  constructor(readonly worker: Worker, onExit: (slot: WorkerSlot, code: number) => void) {
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (error) => { this.lastError = error; }); // 'exit' follows and does the recovery
    worker.on('exit', (code) => onExit(this, code));
    this.ready = Promise.resolve();
  }

  send(body: WorkerRequestBody, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(reply.unavailable ? inferboxError('IBX_ERR_SESSION_UNAVAILABLE') : new Error(reply.error));
  }
}

/**
 * A fixed set of inference workers. Every loaded model has a session in every worker; each run
 * goes to the worker with the fewest unanswered requests. A worker that dies is replaced and its
 * models reloaded; the requests it held fail with a retryable 503.
 */
export class InferenceWorkerPool {
  private readonly slots: WorkerSlot[] = [];
  /** Models to (re)load into any new worker. */
  private readonly models = new Map<string, string>();
  /** Runs in flight per model key, and who waits for a key to go idle before unloading it. */
  private readonly inflight = new Map<string, number>();
  private readonly idleWaiters = new Map<string, (() => void)[]>();
  private closing = false;

  constructor(private readonly settings: PoolSettings, private readonly onWorkerLost: (reason: string) => void = () => undefined) {
    for (let i = 0; i < Math.max(1, settings.instances); i++) this.slots.push(this.spawn());
  }

  get instances(): number {
    return this.slots.length;
  }

  private spawn(): WorkerSlot {
    return new WorkerSlot(spawnWorker(siblingModule(import.meta.url, 'sessionWorker')), (slot, code) => this.replace(slot, code));
  }

  private replace(slot: WorkerSlot, code: number): void {
    slot.failAll(inferboxError('IBX_ERR_WORKER_LOST'));
    if (this.closing) return;
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.onWorkerLost(`inference worker exited with code ${code} (${slot.lastError?.message ?? 'no error'}); starting a new one`);
    const fresh = this.spawn();
    this.slots[index] = fresh;
    fresh.ready = Promise.all(
      [...this.models].map(([key, path]) => fresh.send({ kind: 'load', key, path, settings: this.settings })),
    ).then(() => undefined, () => undefined);
  }

  /** Loads the model in every worker. If any worker cannot load it, it is unloaded everywhere. */
  async load(key: string, path: string): Promise<LoadResult> {
    const results = await Promise.allSettled(
      this.slots.map((slot) => slot.send({ kind: 'load', key, path, settings: this.settings })),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await this.unloadEverywhere(key);
      const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
      throw inferboxError('IBX_ERR_MODEL_REJECTED', reason);
    }
    this.models.set(key, path);
    return (results[0] as PromiseFulfilledResult<unknown>).value as LoadResult;
  }

  /** Unloads once the runs already dispatched for this key have finished, so none of them fails for it. */
  async unload(key: string): Promise<void> {
    this.models.delete(key);
    if ((this.inflight.get(key) ?? 0) > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.set(key, [...(this.idleWaiters.get(key) ?? []), resolve]));
    }
    await this.unloadEverywhere(key);
  }

  private track(key: string, delta: 1 | -1): void {
    const count = (this.inflight.get(key) ?? 0) + delta;
    if (count > 0) {
      this.inflight.set(key, count);
      return;
    }
    this.inflight.delete(key);
    for (const resolve of this.idleWaiters.get(key) ?? []) resolve();
    this.idleWaiters.delete(key);
  }

  private async unloadEverywhere(key: string): Promise<void> {
    await Promise.allSettled(this.slots.map((slot) => slot.send({ kind: 'unload', key })));
  }

  async run(key: string, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<PoolRunResult> {
    if (this.closing) throw inferboxError('IBX_ERR_SHUTTING_DOWN');
    const slot = this.leastBusy();
    this.track(key, 1);
    const dispatchedAt = epochMs();
    try {
      await slot.ready;
      const result = (await slot.send({ kind: 'run', key, feeds, outputNames }, transferablesOf(Object.values(feeds)))) as RunResult;
      return { outputs: result.outputs, queueMs: Math.max(0, result.startedAt - dispatchedAt), inferMs: result.inferMs };
    } catch (error) {
      if (error instanceof InferboxError) throw error;
      throw new SessionRunError((error as Error).message);
    } finally {
      this.track(key, -1);
    }
  }

  private leastBusy(): WorkerSlot {
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.pending.size < best.pending.size) best = slot;
    return best;
  }

  /**
   * Stops accepting runs, lets the runs in flight finish (ending a thread inside a native
   * onnxruntime call can abort the process), then ends the workers.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.inflight.keys()].map((key) => new Promise<void>((resolve) => this.idleWaiters.set(key, [...(this.idleWaiters.get(key) ?? []), resolve]))));
    await Promise.all(this.slots.map(async (slot) => {
      slot.failAll(inferboxError('IBX_ERR_SHUTTING_DOWN'));
      await slot.worker.terminate();
    }));
  }
}
