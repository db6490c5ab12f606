import type { RuntimeTensor } from '../common/datatypes.js';
import { InferboxError } from '../common/errors.js';
import type { PoolRunResult } from '../runtime/InferenceWorkerPool.js';
import { batchSignature, concatenateFeeds, rowsOf, sliceRows } from './concatenateFeeds.js';

/** Triton's dynamic batcher settings (model_config.dynamic_batching), per model version. */
export interface BatchingSettings {
  /** Most rows one run takes; requests are never split, so a bigger request runs alone. */
  maxBatchSize: number;
  /** How long a request may wait for others when an instance is free, in µs (0: only batch what queued while all instances were busy). */
  maxQueueDelayMicros: number;
  /** Requests waiting beyond this are refused with 503 and Retry-After. */
  maxQueueSize: number;
  /** How many batches may run at once: the worker instances. */
  concurrency: number;
}

export interface BatchedRunResult extends PoolRunResult {
  /** Rows in the run this request was part of (1 request alone: its own rows). */
  batchRows: number;
}

type Run = (feeds: Record<string, RuntimeTensor>, outputNames: string[]) => Promise<PoolRunResult>;

interface Waiting {
  feeds: Record<string, RuntimeTensor>;
  outputNames: string[];
  signature: string;
  rows: number;
  resolve: (result: BatchedRunResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Concatenates concurrent requests of one model version along dimension 0, runs them once and
 * splits the outputs back by rows. Batches form while every instance is busy, so a lone request
 * under light load runs at once (batching must not tax latency); with `maxQueueDelayMicros` a
 * request may also wait briefly for company. Requests whose inputs differ beyond dimension 0, or
 * that ask for other outputs, go in different batches. A failing run fails only its own requests.
 */
export class DynamicBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly run: Run, private readonly settings: BatchingSettings) {}

  enqueue(feeds: Record<string, RuntimeTensor>, outputNames: string[]): Promise<BatchedRunResult> {
    if (this.queue.length >= this.settings.maxQueueSize) {
      return Promise.reject(new InferboxError('IBX_ERR_QUEUE_FULL', [String(this.settings.maxQueueSize)], { headers: { 'Retry-After': '1' } }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ feeds, outputNames, signature: batchSignature(feeds, outputNames), rows: rowsOf(feeds), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running >= this.settings.concurrency || this.queue.length === 0) return;
    const queuedRows = this.queue.reduce((n, w) => n + w.rows, 0);
    if (this.settings.maxQueueDelayMicros > 0 && queuedRows < this.settings.maxBatchSize) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, this.settings.maxQueueDelayMicros / 1000);
      return;
    }
    this.dispatch();
  }

  /** Takes the oldest request and every compatible one behind it that still fits. */
  private dispatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running < this.settings.concurrency && this.queue.length > 0) {
      const first = this.queue.shift()!;
      const batch = [first];
      let rows = first.rows;
      for (let i = 0; i < this.queue.length && rows < this.settings.maxBatchSize; ) {
        const candidate = this.queue[i]!;
        if (candidate.signature === first.signature && rows + candidate.rows <= this.settings.maxBatchSize) {
          batch.push(candidate);
          rows += candidate.rows;
          this.queue.splice(i, 1);
        } else i++;
      }
      this.running += 1;
      void this.execute(batch, rows).finally(() => {
        this.running -= 1;
        this.schedule();
      });
    }
  }

  private async execute(batch: Waiting[], rows: number): Promise<void> {
    try {
      if (batch.length === 1) {
        const only = batch[0]!;
        only.resolve({ ...(await this.run(only.feeds, only.outputNames)), batchRows: rows });
        return;
      }
      const result = await this.run(concatenateFeeds(batch.map((w) => w.feeds)), batch[0]!.outputNames);
      let start = 0;
      for (const waiting of batch) {
        const outputs = Object.fromEntries(Object.entries(result.outputs).map(([name, tensor]) => [name, sliceRows(tensor, start, waiting.rows)]));
        waiting.resolve({ outputs, queueMs: result.queueMs, inferMs: result.inferMs, batchRows: rows });
        start += waiting.rows;
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
