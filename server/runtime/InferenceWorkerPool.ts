import { stat } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { InferboxError, inferboxError, messageOf } from '../common/errors.js';
import { withoutModelPaths } from '../common/withoutModelPaths.js';
import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import { SessionRunError } from './SessionRunError.js';
import { calibrationFeeds } from './calibrationFeeds.js';
import { sessionId, type SessionKey } from '../common/SessionKey.js';
import { transferablesOf, type RuntimeTensor } from '../common/datatypes.js';
import { estimateSessionBytes } from './estimateSessionBytes.js';
import { InflightRuns } from './InflightRuns.js';
import { measureInChildProcess, OverMemoryLimit } from './measureInChildProcess.js';
import type { MeasuredModel, SessionCost } from './sessionCost.js';
import { FreedMemory } from './FreedMemory.js';
import { OrtSessions } from './OrtSessions.js';
import { epochMs, type LoadResult, type RunResult, type SessionSettings, type WorkerCloseRequest, type WorkerReply, type WorkerRequest } from './workerProtocol.js';

export interface PoolSettings extends SessionSettings {
  /** Worker threads: the most instances any one model can run on at once. */
  instances: number;
  /** How long a model must go without a backlog before an extra instance is let go (default 30 s). */
  scaleDownAfterMs?: number;
}

/** Where one model may run; read again at every decision, so admin changes apply without a reload. */
export interface Placement {
  /** Workers that hold a session while the model is loaded (at least 1). */
  minInstances: number;
  /** Workers it may spread to while requests queue for it (capped by the pool's workers). */
  maxInstances: number;
  /** Whether it may run on the HTTP thread once its runs prove shorter than a trip to a worker. */
  inline: boolean;
  /**
   * Its sessions' providers and intra-op threads when the model has its own (an admin's choice);
   * else the pool's. Read once per load: every session of one load runs the same way.
   */
  session?: SessionChoice;
}

/** A model's own execution settings: providers in order of preference ('cpu' last) and intra-op threads. */
export interface SessionChoice {
  executionProviders: string[];
  intraOpThreads: number;
}

export const DEFAULT_PLACEMENT: Placement = { minInstances: 1, maxInstances: Number.MAX_SAFE_INTEGER, inline: true };

export interface PoolRunResult {
  outputs: Record<string, RuntimeTensor>;
  /** ms from dispatch to the session starting the run (waiting behind other runs). */
  queueMs: number;
  inferMs: number;
}

/** What the console shows about where a model runs now. */
export interface PlacementStatus {
  workers: number;
  inline: boolean;
  /** Moving average of one run's time, ms (null before the first run). */
  runMs: number | null;
  /** The fastest run timed on the HTTP thread as the model loaded, ms (null: not timed there). */
  inlineRunMs: number | null;
  /** The provider its sessions run on now: 'cpu' once a GPU run failed (see `runOnGpu`) or its creation did. */
  provider: string;
  /** Why it left the GPU after loading on it (null: it did not). */
  runFallbackReason: string | null;
}

/**
 * Runs shorter than this (timed on a worker, or on the HTTP thread as the model loads) go to the
 * HTTP thread when nothing else of the model runs. A worker round trip costs far more than such a
 * run: measured with the bundled mlp at one request at a time (2-core VM, 2026-12-08), a run of
 * 90-100 µs on either thread, but 200 µs of worker-thread CPU per request and a p50 of 741 µs on
 * the workers against 4xx µs inline. Holding the HTTP thread half a millisecond at light load costs
 * less than parsing a 4 KB JSON body; an earlier limit of 0.05-0.1 ms sat right at the mlp's own
 * run time, so a slower day's machine sent it to the workers.
 */
export const INLINE_MAX_RUN_MS = 0.5;
/** Runs to watch before deciding, and how long a model that left the HTTP thread stays off it. */
const INLINE_MIN_RUNS = 32;
/**
 * The untimed warm-up run may take this long before timing stops: a session's first run allocates
 * and initialises (2-3 ms for the 2.7 KB mlp while the server starts), later runs do not.
 */
const INLINE_WARMUP_MAX_MS = 20;
/**
 * Inline runs are not timed (the HTTP thread interleaves other work with ORT's promise, so a
 * clock around them measures the server, not the model): instead an input may be at most this
 * many times larger than the largest measured one; bigger inputs go to a worker and are measured.
 */
const INLINE_MAX_GROWTH = 4;
const INLINE_RETRY_AFTER_MS = 60_000;
/**
 * A file this small is timed on the HTTP thread right after it loads: a worker's runs of a tiny
 * model at light load are dominated by waking the thread (measured in the 2-core VM: an 8 µs mlp
 * run took 100-300 µs in a worker woken for each request, 30 µs on the HTTP thread), so waiting
 * for fast worker runs would keep it off the HTTP thread exactly when that helps most.
 */
const INLINE_CALIBRATION_MAX_FILE_BYTES = 1024 * 1024;
/** Timed calibration runs (the fastest counts); the first, untimed, warms the session up. */
const INLINE_CALIBRATION_RUNS = 16;
/** A second copy of the weights lives on the HTTP thread: only for small files. */
const INLINE_MAX_FILE_BYTES = 16 * 1024 * 1024;
const INLINE_SESSION: SessionSettings = { executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 };
/**
 * A session is created synchronously on the thread that asks: one for the HTTP thread only when
 * its measured creation took at most this long (the HTTP thread is never held over 50 ms; a
 * 20,000-node graph in a 0.85 MB file takes 350 ms, the bundled mlp 2 ms).
 */
const INLINE_MAX_LOAD_MS = 20;
/**
 * How long measuring a model in its child process may take: the 9 MB file of 200,000 Identity
 * nodes took 5.4-12 s to load here, a 113 MB MLP stack about 1 s; past this it is refused.
 */
const MEASURE_TIMEOUT_MS = 120_000;
const EWMA_WEIGHT = 0.1;
const SWEEP_INTERVAL_MS = 1000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type WorkerRequestBody = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** A model load that failed or fell back to the CPU provider, as the server log records it. */
export interface LoadProblem {
  model: string;
  version: string;
  path: string;
  kind: 'load failed' | 'provider fallback';
  /** onnxruntime's message as it came, paths included. */
  message: string;
}

/** One worker thread and the requests it has not answered yet. */
class WorkerSlot {
  readonly pending = new Map<number, Pending>();
  ready: Promise<void>;
  private nextId = 1;

  /** The uncaught error that ended the worker, if any, for the log line about its replacement. */
  lastError: Error | undefined;

  private readonly ended: Promise<void>;

  constructor(readonly worker: Worker, onExit: (slot: WorkerSlot, code: number) => void) {
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (error) => { this.lastError = error; }); // 'exit' follows and does the recovery
    this.ended = new Promise((resolve) => worker.once('exit', () => resolve()));
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

  /**
   * Ends the worker from inside (WorkerCloseRequest), never in a native call; terminates it only
   * if it has not ended after `graceMs` (a native call that does not return: the process would be
   * stuck otherwise).
   */
  async close(graceMs: number): Promise<void> {
    this.worker.postMessage({ kind: 'close' } satisfies WorkerCloseRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
    if ((await Promise.race([this.ended, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
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

/** One loaded model: which workers hold it, whether the HTTP thread does, and what its runs cost. */
interface ModelEntry {
  path: string;
  fileBytes: number;
  /** What one session takes: measured (SessionCost) or, without a measurement, estimated from the file. */
  sessionBytes: number;
  /** How long creating one took where it was measured (null: not measured): gates the HTTP thread's copy. */
  loadMs: number | null;
  placement: () => Placement;
  /** What every session of this load runs with (the model's own choice or the pool's; the CPU alone once its provider failed). */
  session: SessionSettings;
  /** Indexes into the pool's workers that hold a ready session. */
  holders: number[];
  /** Loads into further workers in progress. */
  growing: number;
  /** When requests last had to wait for this model (every instance busy). */
  lastBacklogAt: number;
  /** Moving average of a worker run's time: measured in a thread that does nothing else, so it is the run's own cost. */
  runMs: number | null;
  /**
   * The fastest worker run seen: the model's own cost. On a busy machine (other processes, other
   * models) runs only get slower, so this, not the average, says whether the model is tiny.
   */
  fastestRunMs: number;
  /** The fastest calibration run on the HTTP thread (null: not timed there). */
  inlineRunMs: number | null;
  runs: number;
  /** The most input elements a measured run had: inline runs stay within a few times that. */
  maxElementsSeen: number;
  inline: 'off' | 'loading' | 'on';
  inlineMaxElements: number;
  inlineLeftAt: number;
  /** Unloading: runs of requests that hold a lease still go through, new leases are refused. */
  retiring: boolean;
  /** Set when a GPU run failed on an input the CPU answers: why it moved to the CPU. */
  runFallbackReason: string | null;
  /** The move to the CPU under way: runs that fail on the GPU meanwhile wait for it. */
  movingToCpu: Promise<void> | null;
}

/**
 * onnxruntime-node's WebGPU provider shares one WebGPU device across the process, and two threads
 * running WebGPU sessions at once crash it (SIGSEGV, onnxruntime-node 1.30 on Mesa's lavapipe:
 * creation in two threads, or runs in two threads, each alone is fine; a WebGPU thread beside CPU
 * threads is fine). Every WebGPU session therefore lives in this one worker, one instance per model.
 */
const WEBGPU_WORKER = 0;

/** How long close() waits for a worker to end itself: the longest single load or run expected. */
const WORKER_CLOSE_GRACE_MS = 30_000;
const onWebGpu = (session: SessionSettings) => session.executionProviders.includes('webgpu');
/** The provider a load's sessions run on: the first asked for (a load that fell back asks for 'cpu' from then on). */
const providerOf = (session: SessionSettings) => session.executionProviders[0] ?? 'cpu';

const mb = (bytes: number) => Math.round(bytes / 1e6);

const elementsOf = (feeds: Record<string, RuntimeTensor>) => {
  let n = 0;
  for (const tensor of Object.values(feeds)) n += tensor.data.length;
  return n;
};

/**
 * The inference workers and where each model runs. A model starts on `minInstances` workers and
 * spreads to more while its requests queue (up to `maxInstances` and the plan's workers), then
 * shrinks back after `scaleDownAfterMs` without a backlog. Models whose runs take less than a
 * worker round trip also get a session on the HTTP thread and run there. A worker that dies is
 * replaced and its models reloaded; the requests it held fail with a retryable 503.
 */
export class InferenceWorkerPool {
  private readonly slots: WorkerSlot[] = [];
  private readonly entries = new Map<string, ModelEntry>();
  /** Runs in flight per model key and per worker × key, so unloads never cut a run short. */
  private readonly inflight = new InflightRuns();
  private readonly inlineSessions = new OrtSessions();
  /** Released sessions' memory back to the OS (glibc keeps it otherwise). */
  private readonly freedMemory = FreedMemory.load();
  private readonly sweep: NodeJS.Timeout;
  private closing = false;
  /** Estimated bytes of loads in progress, so two loads at once cannot both fit the same room. */
  private reservedBytes = 0;
  /** The measurement in progress (`measure`), which the next one waits for. */
  private measuring: Promise<unknown> = Promise.resolve();

  /**
   * `memoryBudgetBytes`: bytes the loaded models' sessions may take together (each session as
   * measured, `measure`, else estimated, `estimateSessionBytes`), read at every load: a load beyond it is refused, extra instances and
   * inline copies are not made. Separate from `settings`, which go to the workers as data.
   */
  constructor(
    private readonly settings: PoolSettings,
    private readonly onWorkerLost: (reason: string) => void = () => undefined,
    private readonly memoryBudgetBytes: () => number = () => Number.POSITIVE_INFINITY,
    /** For the server log: a load's problem with the file's full path (callers get it without, `withoutModelPaths`). */
    private readonly onLoadProblem: (problem: LoadProblem) => void = () => undefined,
  ) {
    for (let i = 0; i < Math.max(1, settings.instances); i++) this.slots.push(this.spawn());
    this.sweep = setInterval(() => this.shrinkIdle(), SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  /** The most workers any model can use. */
  get instances(): number {
    return this.slots.length;
  }

  /** The HTTP thread's sessions are CPU ones: a model that runs on an accelerator stays off it. */
  private static inlineAllowed(entry: ModelEntry): boolean {
    return entry.session.executionProviders.every((p) => p === 'cpu');
  }

  /** Whether creating its session holds a thread only briefly (unmeasured: the small file is the only clue). */
  private static quickToLoad(entry: ModelEntry): boolean {
    return entry.loadMs === null || entry.loadMs <= INLINE_MAX_LOAD_MS;
  }

  private sessionSettings(placement: Placement): SessionSettings {
    const own = placement.session;
    return own ? { executionProviders: own.executionProviders, intraOpThreads: own.intraOpThreads, interOpThreads: this.settings.interOpThreads } : this.settings;
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
    const held = [...this.entries].filter(([, entry]) => entry.holders.includes(index));
    fresh.ready = Promise.all(held.map(([key, entry]) => fresh.send({ kind: 'load', key, path: entry.path, settings: entry.session }))).then(() => undefined, () => undefined);
  }

  /**
   * Checks a model file and measures what one session of it costs, in a child process
   * (measureInChildProcess), before any session of it exists here: memory onnxruntime takes is not
   * given back when the session goes, so one over the budget must never load in this process. The
   * child may grow by the room left in the budget; a model that takes more is refused there (4xx).
   */
  measure(sessionKey: SessionKey, path: string): Promise<MeasuredModel> {
    // One at a time: each child may take the whole room left (versions from before measurements
    // all load at a restart), and each takes a core.
    const measured = this.measuring.then(() => this.measureNow(sessionKey, path));
    this.measuring = measured.catch(() => undefined);
    return measured;
  }

  private async measureNow(sessionKey: SessionKey, path: string): Promise<MeasuredModel> {
    const budget = this.memoryBudgetBytes();
    const left = Math.max(0, budget - this.estimatedBytes());
    try {
      return await measureInChildProcess(path, { limitBytes: left, timeoutMs: MEASURE_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof OverMemoryLimit) throw inferboxError('IBX_ERR_MEMORY_BUDGET_MEASURED', `${sessionKey.model}/${sessionKey.version}`, mb(left), mb(budget));
      if (error instanceof InferboxError) throw error;
      throw this.loadRefused(sessionKey, path, error);
    }
  }

  /**
   * Loads the model into its first `minInstances` workers, budgeted by `cost` (its measurement;
   * without one, estimated from the file size). If any of them cannot load it, it is unloaded
   * again and refused.
   */
  async load(sessionKey: SessionKey, path: string, placement: () => Placement = () => DEFAULT_PLACEMENT, cost?: SessionCost): Promise<LoadResult> {
    const key = sessionId(sessionKey);
    await this.unloadId(key); // a reload starts from nothing, so no worker keeps the old file's session
    const chosen = placement();
    const session = this.sessionSettings(chosen);
    const count = onWebGpu(session) ? 1 : this.clamp(chosen.minInstances);
    const fileBytes = await stat(path).then((stats) => stats.size, (error: unknown) => { throw this.loadRefused(sessionKey, path, error); });
    const sessionBytes = cost?.sessionBytes ?? estimateSessionBytes(fileBytes);
    const needed = count * sessionBytes;
    const left = this.memoryBudgetBytes() - this.estimatedBytes();
    if (needed > left) {
      throw inferboxError('IBX_ERR_MEMORY_BUDGET', `${sessionKey.model}/${sessionKey.version}`, mb(needed), count, mb(sessionBytes), mb(Math.max(0, left)), mb(this.memoryBudgetBytes()));
    }
    this.reservedBytes += needed;
    const targets = onWebGpu(session) ? [WEBGPU_WORKER] : this.leastLoadedSlots(count);
    const results = await Promise.allSettled(targets.map((index) => this.slots[index]!.send({ kind: 'load', key, path, settings: session })))
      .finally(() => { this.reservedBytes -= needed; });
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.allSettled(targets.map((index) => this.slots[index]!.send({ kind: 'unload', key })));
      throw this.loadRefused(sessionKey, path, failure.reason);
    }
    const loaded = (results[0] as PromiseFulfilledResult<unknown>).value as LoadResult;
    // A provider that could not start fell back to the CPU: from here it is a CPU model (more
    // instances, the HTTP thread; not pinned to the GPU's worker), and no instance tries it again.
    const runsOn = loaded.fallbackReason === undefined ? session : { ...session, executionProviders: ['cpu'] };
    const entry: ModelEntry = { path, fileBytes, sessionBytes, loadMs: cost?.loadMs ?? null, placement, session: runsOn, holders: targets, growing: 0, lastBacklogAt: 0, runMs: null, fastestRunMs: Number.POSITIVE_INFINITY, inlineRunMs: null, runs: 0, maxElementsSeen: 0, inline: 'off', inlineMaxElements: 0, inlineLeftAt: 0, retiring: false, runFallbackReason: null, movingToCpu: null };
    this.entries.set(key, entry);
    if (loaded.fallbackReason !== undefined) {
      this.onLoadProblem({ model: sessionKey.model, version: sessionKey.version, path, kind: 'provider fallback', message: loaded.fallbackReason });
      loaded.fallbackReason = withoutModelPaths(loaded.fallbackReason, [path]);
    }
    void this.calibrateInline(key, entry, loaded);
    return loaded;
  }

  /**
   * onnxruntime's load errors name the file by its absolute path, and they reach callers (the
   * upload's answer, the version's status, job results, gRPC): they get the message without the
   * path, the server log gets it whole.
   */
  private loadRefused(sessionKey: SessionKey, path: string, error: unknown): InferboxError {
    const message = messageOf(error);
    this.onLoadProblem({ model: sessionKey.model, version: sessionKey.version, path, kind: 'load failed', message });
    return inferboxError('IBX_ERR_MODEL_REJECTED', withoutModelPaths(message, [path]));
  }

  /**
   * Times a small model on the HTTP thread with a generated one-row input (the quantization gate
   * generates inputs the same way) and keeps it there when its fastest run beats a worker round
   * trip; any failure just leaves it on the workers, where runs are watched as before. The first
   * run only warms the session up; a slow one (or a slow timed run) stops the timing at once, so
   * the HTTP thread is never held for long.
   */
  private async calibrateInline(key: string, entry: ModelEntry, loaded: LoadResult): Promise<void> {
    const feeds = calibrationFeeds(loaded.inputs);
    if (!feeds || !InferenceWorkerPool.inlineAllowed(entry) || !entry.placement().inline || entry.fileBytes > INLINE_CALIBRATION_MAX_FILE_BYTES || !InferenceWorkerPool.quickToLoad(entry) || !this.fitsOneMore(entry)) return;
    entry.inline = 'loading';
    try {
      await this.inlineSessions.load(key, entry.path, INLINE_SESSION);
      const outputNames = loaded.outputs.map((o) => o.name);
      let fastest = Number.POSITIVE_INFINITY;
      for (let run = 0; run <= INLINE_CALIBRATION_RUNS && this.entries.get(key) === entry; run++) {
        // onnxruntime-node runs a session in a setImmediate of its own, queued right after this one:
        // the clock starts when the run does, not when the thread is done with what was queued before
        // (a starting server's restore, other requests), which is not the model's cost.
        let started = performance.now();
        setImmediate(() => { started = performance.now(); });
        await this.inlineSessions.run(key, feeds, outputNames);
        const ms = performance.now() - started;
        const slow = ms > (run === 0 ? INLINE_WARMUP_MAX_MS : 10 * INLINE_MAX_RUN_MS);
        if (run > 0 || slow) fastest = Math.min(fastest, ms);
        if (slow) break;
      }
      entry.inlineRunMs = Number.isFinite(fastest) ? fastest : null;
      if (this.entries.get(key) === entry && entry.inline === 'loading' && fastest < INLINE_MAX_RUN_MS) {
        entry.inline = 'on';
        entry.inlineMaxElements = elementsOf(feeds) * INLINE_MAX_GROWTH;
        return;
      }
    } catch {
      // A generated input the model refuses, say: the worker runs decide instead.
    }
    if (entry.inline === 'loading') entry.inline = 'off';
    if (this.entries.get(key) !== entry || entry.inline === 'off') await this.inlineSessions.unload(key);
  }

  /**
   * Bytes of every session held now, as measured or estimated (workers, loads into more workers, inline copies),
   * retiring ones included: they stay in memory until their last run ends.
   */
  estimatedBytes(): number {
    let bytes = this.reservedBytes;
    for (const entry of this.entries.values()) {
      bytes += entry.sessionBytes * (entry.holders.length + entry.growing + (entry.inline === 'off' ? 0 : 1));
    }
    return bytes;
  }

  /** Whether one more session of this model fits the budget (for instances and inline copies, which are optional). */
  private fitsOneMore(entry: ModelEntry): boolean {
    return this.estimatedBytes() + entry.sessionBytes <= this.memoryBudgetBytes();
  }

  private clamp(instances: number): number {
    return Math.max(1, Math.min(this.slots.length, Math.floor(instances)));
  }

  /** Worker indexes ordered by how many models they hold, then by queued work. */
  private leastLoadedSlots(count: number, exclude: number[] = []): number[] {
    const held = (index: number) => [...this.entries.values()].filter((e) => e.holders.includes(index)).length;
    return this.slots
      .map((slot, index) => ({ index, held: held(index), pending: slot.pending.size }))
      .filter((s) => !exclude.includes(s.index))
      .sort((a, b) => a.held - b.held || a.pending - b.pending || a.index - b.index)
      .slice(0, count)
      .map((s) => s.index);
  }

  /**
   * Unloads once every run already dispatched has finished, so none of them fails for it (the
   * served version that owns the key stops taking requests before it calls this).
   */
  unload(sessionKey: SessionKey): Promise<void> {
    return this.unloadId(sessionId(sessionKey));
  }

  private async unloadId(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry || entry.retiring) return;
    entry.retiring = true;
    await this.inflight.idle(key);
    if (this.entries.get(key) === entry) this.entries.delete(key);
    await Promise.allSettled(entry.holders.map((index) => this.slots[index]!.send({ kind: 'unload', key })));
    if (entry.inline !== 'off') await this.inlineSessions.unload(key);
    this.freedMemory.request();
  }

  /** How many runs of this model can go at once now (its batcher dispatches no more). */
  capacity(sessionKey: SessionKey): number {
    const entry = this.entries.get(sessionId(sessionKey));
    if (!entry) return 1;
    return Math.max(1, entry.holders.length);
  }

  /** Requests for this model are waiting for an instance: spread it to another worker if allowed. */
  reportBacklog(sessionKey: SessionKey): void {
    this.reportBacklogOf(sessionId(sessionKey));
  }

  private reportBacklogOf(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || this.closing) return;
    entry.lastBacklogAt = Date.now();
    const placement = entry.placement();
    const limit = onWebGpu(entry.session) ? 1 : Math.max(this.clamp(placement.minInstances), this.clamp(placement.maxInstances));
    if (entry.holders.length + entry.growing >= limit) return;
    const [target] = this.leastLoadedSlots(1, entry.holders);
    if (target === undefined || !this.fitsOneMore(entry)) return;
    entry.growing += 1;
    void this.slots[target]!.send({ kind: 'load', key, path: entry.path, settings: entry.session }).then(
      () => {
        entry.growing -= 1;
        if (this.entries.get(key) === entry && !entry.holders.includes(target)) entry.holders.push(target);
        else void this.slots[target]!.send({ kind: 'unload', key }).catch(() => undefined);
      },
      () => { entry.growing -= 1; },
    );
  }

  placementStatus(sessionKey: SessionKey): PlacementStatus | undefined {
    const entry = this.entries.get(sessionId(sessionKey));
    return entry && { workers: entry.holders.length, inline: entry.inline === 'on', runMs: entry.runMs, inlineRunMs: entry.inlineRunMs, provider: providerOf(entry.session), runFallbackReason: entry.runFallbackReason };
  }

  async run(sessionKey: SessionKey, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<PoolRunResult> {
    if (this.closing) throw inferboxError('IBX_ERR_SHUTTING_DOWN');
    const key = sessionId(sessionKey);
    const entry = this.entries.get(key);
    if (!entry) throw inferboxError('IBX_ERR_SESSION_UNAVAILABLE');
    // Inline only when nothing else of this model runs: that is light load, where the worker
    // round trip is most of the latency. Under load the workers take the runs, batched, and the
    // HTTP thread keeps its time for HTTP (measured: inline at 32 concurrent cost 25% throughput).
    const alone = !this.inflight.has(key);
    this.inflight.begin(key);
    const dispatchedAt = epochMs();
    try {
      const elements = elementsOf(feeds);
      let result: RunResult;
      if (alone && entry.inline === 'on' && elements <= entry.inlineMaxElements) {
        result = await this.inlineSessions.run(key, feeds, outputNames);
      } else {
        result = onWebGpu(entry.session) ? await this.runOnGpu(sessionKey, key, entry, feeds, outputNames) : await this.runOnWorker(key, entry, feeds, outputNames);
        this.observe(key, entry, result.inferMs, elements);
      }
      return { outputs: result.outputs, queueMs: Math.max(0, result.startedAt - dispatchedAt), inferMs: result.inferMs };
    } catch (error) {
      if (error instanceof InferboxError) throw error;
      throw new SessionRunError((error as Error).message);
    } finally {
      this.inflight.end(key);
    }
  }

  /**
   * A GPU session can fail a run that the CPU does: onnxruntime's WebGPU provider creates a session
   * for a Split into 20 outputs, then each run fails ("Too many storage buffers in shader. Current:
   * 21, Max is 16" on lavapipe). The same input then runs on the CPU. If the CPU answers, that is
   * the answer and the model moves to the CPU for the rest of this process, with the reason; if the
   * CPU fails too, the input is at fault and the CPU's error is the answer (a bad input never moves
   * a model off the GPU). The feeds are copied to the worker, not transferred, to keep them for this.
   */
  private async runOnGpu(sessionKey: SessionKey, key: string, entry: ModelEntry, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<RunResult> {
    try {
      return await this.runOnWorker(key, entry, feeds, outputNames, false);
    } catch (error) {
      if (error instanceof InferboxError) throw error;
      if (entry.movingToCpu) await entry.movingToCpu;
      if (!onWebGpu(entry.session)) return this.runOnWorker(key, entry, feeds, outputNames); // moved while this run failed
      const answer = await this.runOnceOnCpu(key, entry, feeds, outputNames);
      // Awaited: once this request has its answer, the version's status says where it runs now.
      await (entry.movingToCpu ??= this.moveToCpu(sessionKey, key, entry, `${providerOf(entry.session)} failed a run that the CPU provider answers: ${messageOf(error)}`));
      return answer;
    }
  }

  /** Runs the feeds once on a CPU session of the model's file made for it, then lets it go. */
  private async runOnceOnCpu(key: string, entry: ModelEntry, feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<RunResult> {
    const checkKey = `${key}\u0000cpu-check`;
    const [index] = this.leastLoadedSlots(1);
    const slot = this.slots[index!]!;
    this.inflight.begin(checkKey);
    try {
      await slot.send({ kind: 'load', key: checkKey, path: entry.path, settings: { ...entry.session, executionProviders: ['cpu'] } });
      return (await slot.send({ kind: 'run', key: checkKey, feeds, outputNames }, transferablesOf(Object.values(feeds)))) as RunResult;
    } finally {
      await slot.send({ kind: 'unload', key: checkKey }).catch(() => undefined);
      this.inflight.end(checkKey);
    }
  }

  /**
   * Replaces the GPU session with a CPU one in its worker (runs there are one at a time, so none is
   * cut short); from then on the model runs as any CPU model, and may spread to more workers. If
   * the CPU session cannot load, the GPU one stays and the next failing run tries again. Never rejects.
   */
  private async moveToCpu(sessionKey: SessionKey, key: string, entry: ModelEntry, reason: string): Promise<void> {
    const cpu: SessionSettings = { ...entry.session, executionProviders: ['cpu'] };
    const problem = (message: string) => this.onLoadProblem({ model: sessionKey.model, version: sessionKey.version, path: entry.path, kind: 'provider fallback', message });
    try {
      await Promise.all(entry.holders.map((index) => this.slots[index]!.send({ kind: 'load', key, path: entry.path, settings: cpu })));
      entry.session = cpu;
      entry.runFallbackReason = withoutModelPaths(reason, [entry.path]);
      problem(reason);
    } catch (error) {
      problem(`${reason}; the CPU session could not load (${messageOf(error)}), the GPU one stays`);
    } finally {
      entry.movingToCpu = null;
    }
  }

  private async runOnWorker(key: string, entry: ModelEntry, feeds: Record<string, RuntimeTensor>, outputNames: string[], transfer = true): Promise<RunResult> {
    let index = entry.holders[0]!;
    for (const candidate of entry.holders) if (this.slots[candidate]!.pending.size < this.slots[index]!.pending.size) index = candidate;
    const slot = this.slots[index]!;
    if (slot.pending.size > 0) this.reportBacklogOf(key);
    const slotKey = `${index}\u0000${key}`;
    this.inflight.begin(slotKey);
    try {
      await slot.ready;
      return (await slot.send({ kind: 'run', key, feeds, outputNames }, transfer ? transferablesOf(Object.values(feeds)) : [])) as RunResult;
    } finally {
      this.inflight.end(slotKey);
    }
  }

  /**
   * Keeps the worker run-time average and moves the model onto the HTTP thread by it; a larger
   * input that still ran in less than the limit on a worker lets inline runs take inputs up to
   * a few times its size.
   */
  private observe(key: string, entry: ModelEntry, inferMs: number, elements: number): void {
    entry.maxElementsSeen = Math.max(entry.maxElementsSeen, elements);
    // One slow run (a GC pause, a page fault) must not decide: each counts at most twice the limit.
    const sample = Math.min(inferMs, 2 * INLINE_MAX_RUN_MS);
    entry.runMs = entry.runMs === null ? sample : entry.runMs + EWMA_WEIGHT * (sample - entry.runMs);
    entry.fastestRunMs = Math.min(entry.fastestRunMs, inferMs);
    entry.runs += 1;
    if (entry.inline !== 'off') {
      if (inferMs < INLINE_MAX_RUN_MS) entry.inlineMaxElements = Math.max(entry.inlineMaxElements, elements * INLINE_MAX_GROWTH);
      return;
    }
    const eligible = InferenceWorkerPool.inlineAllowed(entry) && entry.placement().inline && entry.runs >= INLINE_MIN_RUNS &&
      entry.fastestRunMs < INLINE_MAX_RUN_MS && entry.fileBytes <= INLINE_MAX_FILE_BYTES && InferenceWorkerPool.quickToLoad(entry) && Date.now() - entry.inlineLeftAt > INLINE_RETRY_AFTER_MS &&
      this.fitsOneMore(entry);
    if (!eligible) return;
    entry.inline = 'loading';
    entry.inlineMaxElements = entry.maxElementsSeen * INLINE_MAX_GROWTH;
    this.inlineSessions.load(key, entry.path, INLINE_SESSION).then(
      () => {
        if (this.entries.get(key) === entry && entry.inline === 'loading') entry.inline = 'on';
        else if (this.entries.get(key) !== entry) void this.inlineSessions.unload(key);
      },
      () => { entry.inline = 'off'; entry.inlineLeftAt = Date.now(); },
    );
  }

  /** The admin turned inline off for a model that runs inline: back to the workers once its inline runs finish. */
  private leaveHttpThread(key: string, entry: ModelEntry): void {
    entry.inline = 'off';
    entry.inlineLeftAt = Date.now();
    void this.inflight.idle(key).then(() => (entry.inline === 'off' ? this.inlineSessions.unload(key) : undefined));
  }

  /**
   * Lets go of the extra workers of models that had no backlog for `scaleDownAfterMs`, and of
   * workers beyond a lowered `maxInstances`, one per model per sweep; a worker leaves the
   * rotation first and unloads once its runs are done.
   */
  private shrinkIdle(): void {
    const quietFor = this.settings.scaleDownAfterMs ?? 30_000;
    for (const [key, entry] of this.entries) {
      if (entry.retiring) continue;
      const placement = entry.placement();
      if (entry.inline === 'on' && !placement.inline) this.leaveHttpThread(key, entry);
      const floor = this.clamp(placement.minInstances);
      const ceiling = Math.max(floor, this.clamp(placement.maxInstances));
      const quiet = Date.now() - entry.lastBacklogAt >= quietFor;
      if (entry.holders.length > ceiling || (quiet && entry.holders.length > floor)) {
        const index = entry.holders.pop()!;
        // A backlog may have brought the model back onto this worker meanwhile: then it stays.
        void this.inflight.idle(`${index}\u0000${key}`)
          .then(() => (entry.holders.includes(index) ? undefined : this.slots[index]!.send({ kind: 'unload', key }).then(() => this.freedMemory.request())))
          .catch(() => undefined);
      } else if (entry.holders.length < floor) {
        this.reportBacklogOf(key);
      }
    }
  }

  /**
   * Stops accepting runs, lets the runs in flight finish, then asks the workers to end (a load or
   * unload may still be under way in them: ending a thread inside a native onnxruntime call aborts
   * the process, see WorkerCloseRequest).
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    await this.inflight.allIdle();
    await Promise.all([...this.entries.keys()].map((key) => this.inlineSessions.unload(key)));
    await Promise.all(this.slots.map(async (slot) => {
      slot.failAll(inferboxError('IBX_ERR_SHUTTING_DOWN'));
      await slot.close(WORKER_CLOSE_GRACE_MS);
    }));
  }
}
