import { performance } from 'node:perf_hooks';
import type { RuntimeTensor } from '../common/datatypes.js';
import { InferboxError } from '../common/errors.js';
import type { PoolRunResult } from '../runtime/InferenceWorkerPool.js';
import { batchSignature, concatenateFeeds, rowsOf, sliceRows } from './concatenateFeeds.js';

/** Triton's dynamic batcher settings (model_config.dynamic_batching), per model. */
export interface BatchingSettings {
  /** Most rows one run takes; requests are never split, so a bigger request runs alone. 1: no batching. */
  maxBatchSize: number;
  /** Batch sizes the model runs best at: a batch stops at the largest of these it can form exactly. */
  preferredBatchSizes: number[];
  /** How long a request may wait for others when an instance is free, in µs (0: only batch what queued while all instances were busy). */
  maxQueueDelayMicros: number;
  /** Requests waiting beyond this are refused with 503 and Retry-After. */
  maxQueueSize: number;
  /** A request still waiting after this long is refused (0: no limit); a request may ask for less. */
  timeoutMicros: number;
}

export interface BatchedRunResult extends PoolRunResult {
  /** Rows in the run this request was part of (1 request alone: its own rows). */
  batchRows: number;
  /** ms spent joining the batch's inputs and cutting this request's rows out of the outputs. */
  batchMs: number;
}

type Run = (feeds: Record<string, RuntimeTensor>, outputNames: string[]) => Promise<PoolRunResult>;

export interface BatcherHooks {
  /** How many runs may go at once now (the model's instances). */
  capacity: () => number;
  /** Called when requests wait because every instance is busy: the pool may add one. */
  onBacklog: () => void;
  /** Called after each successful run with its rows (metrics: executions and inferences). */
  onExecuted?: (rows: number) => void;
}

interface Waiting {
  feeds: Record<string, RuntimeTensor>;
  outputNames: string[];
  signature: string;
  rows: number;
  enqueuedAt: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (result: BatchedRunResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Concatenates concurrent requests of one model version along dimension 0, runs them once and
 * splits the outputs back by rows. Batches form while every instance is busy, so a lone request
 * under light load runs at once (batching must not tax latency); with `maxQueueDelayMicros` a
 * request may also wait briefly for company. Requests whose inputs differ beyond dimension 0, or
 * that ask for other outputs, go in different batches. A failing run fails only its own requests.
 * Settings are read at every decision, so an admin's change applies to the next batch.
 */
export class DynamicBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly run: Run, private readonly settings: () => BatchingSettings, private readonly hooks: BatcherHooks) {}

  /** Requests waiting for a run (not those already running). */
  get queued(): number {
    return this.queue.length;
  }

  /** `timeoutMicros` (Triton's request parameter `timeout`) can only shorten the model's limit. */
  enqueue(feeds: Record<string, RuntimeTensor>, outputNames: string[], options: { timeoutMicros?: number | undefined } = {}): Promise<BatchedRunResult> {
    const settings = this.settings();
    if (this.queue.length >= settings.maxQueueSize) {
      return Promise.reject(new InferboxError('IBX_ERR_QUEUE_FULL', [String(settings.maxQueueSize)], { headers: { 'Retry-After': '1' } }));
    }
    // Alone with an instance free and no company to wait for: it runs now, as it would from the
    // queue, without the queue's bookkeeping (the light-load path, where that is most of the cost).
    if (this.queue.length === 0 && this.running < this.hooks.capacity() && settings.maxQueueDelayMicros <= 0) return this.runAlone(feeds, outputNames);
    const limits = [settings.timeoutMicros, options.timeoutMicros ?? 0].filter((t) => t > 0);
    const timeoutMicros = limits.length > 0 ? Math.min(...limits) : 0;
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { feeds, outputNames, signature: batchSignature(feeds, outputNames), rows: rowsOf(feeds), enqueuedAt: performance.now(), timer: undefined, resolve, reject };
      if (timeoutMicros > 0) {
        waiting.timer = setTimeout(() => this.expire(waiting, timeoutMicros), timeoutMicros / 1000);
      }
      this.queue.push(waiting);
      this.schedule();
    });
  }

  private async runAlone(feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<BatchedRunResult> {
    this.running += 1;
    try {
      return await this.runOne(feeds, outputNames, rowsOf(feeds), 0);
    } finally {
      this.running -= 1;
      this.schedule();
    }
  }

  /** One request's run, not joined with others: from the queue, or alone without it. */
  private async runOne(feeds: Record<string, RuntimeTensor>, outputNames: string[], rows: number, waitedMs: number): Promise<BatchedRunResult> {
    const result = await this.run(feeds, outputNames);
    this.hooks.onExecuted?.(rows);
    return { ...result, queueMs: waitedMs + result.queueMs, batchRows: rows, batchMs: 0 };
  }

  /** A request that is still queued when its time is up leaves the queue; one already running finishes. */
  private expire(waiting: Waiting, timeoutMicros: number): void {
    const index = this.queue.indexOf(waiting);
    if (index < 0) return;
    this.queue.splice(index, 1);
    waiting.reject(new InferboxError('IBX_ERR_QUEUE_TIMEOUT', [String(Math.round(timeoutMicros / 1000))], { headers: { 'Retry-After': '1' } }));
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    if (this.running >= this.hooks.capacity()) {
      this.hooks.onBacklog();
      return;
    }
    const settings = this.settings();
    const queuedRows = this.queue.reduce((n, w) => n + w.rows, 0);
    if (settings.maxQueueDelayMicros > 0 && queuedRows < settings.maxBatchSize && !settings.preferredBatchSizes.includes(queuedRows)) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, settings.maxQueueDelayMicros / 1000);
      return;
    }
    this.dispatch();
  }

  /**
   * Takes the oldest request and every compatible one behind it that still fits; with preferred
   * sizes, the batch ends after the largest prefix that makes one exactly.
   */
  private dispatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const settings = this.settings();
    while (this.running < this.hooks.capacity() && this.queue.length > 0) {
      const first = this.queue[0]!;
      const picked = [0];
      let rows = first.rows;
      let preferredEnd = settings.preferredBatchSizes.includes(rows) ? 1 : 0;
      for (let i = 1; i < this.queue.length && rows < settings.maxBatchSize; i++) {
        const candidate = this.queue[i]!;
        if (candidate.signature !== first.signature || rows + candidate.rows > settings.maxBatchSize) continue;
        picked.push(i);
        rows += candidate.rows;
        if (settings.preferredBatchSizes.includes(rows)) preferredEnd = picked.length;
      }
      const taken = preferredEnd > 0 ? picked.slice(0, preferredEnd) : picked;
      const batch = taken.map((i) => this.queue[i]!);
      for (const i of [...taken].reverse()) this.queue.splice(i, 1);
      for (const waiting of batch) clearTimeout(waiting.timer);
      this.running += 1;
      void this.execute(batch).finally(() => {
        this.running -= 1;
        this.schedule();
      });
    }
    if (this.queue.length > 0) this.hooks.onBacklog();
  }

  private async execute(batch: Waiting[]): Promise<void> {
    const dispatchedAt = performance.now();
    const rows = batch.reduce((n, w) => n + w.rows, 0);
    const waited = (w: Waiting) => dispatchedAt - w.enqueuedAt;
    try {
      if (batch.length === 1) {
        const only = batch[0]!;
        only.resolve(await this.runOne(only.feeds, only.outputNames, rows, waited(only)));
        return;
      }
      const joinStarted = performance.now();
      const feeds = concatenateFeeds(batch.map((w) => w.feeds));
      const joinMs = performance.now() - joinStarted;
      const result = await this.run(feeds, batch[0]!.outputNames);
      this.hooks.onExecuted?.(rows);
      let start = 0;
      for (const waiting of batch) {
        const splitStarted = performance.now();
        const outputs = Object.fromEntries(Object.entries(result.outputs).map(([name, tensor]) => [name, sliceRows(tensor, start, waiting.rows)]));
        const batchMs = joinMs + performance.now() - splitStarted;
        waiting.resolve({ outputs, queueMs: waited(waiting) + result.queueMs, inferMs: result.inferMs, batchRows: rows, batchMs });
        start += waiting.rows;
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
