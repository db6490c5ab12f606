import { setTimeout as sleep } from 'node:timers/promises';
import { isInferboxError } from '../common/errors.js';
import { isDiskFull } from '../common/isDiskFull.js';
import type { InferResponse } from '../serving/oipCodec.js';
import { modelCardSchema } from '../predict/modelCard.js';
import { planCard, type CardPlan } from '../predict/planCard.js';
import { predictionsFromOutputs } from '../predict/predictionsFromOutputs.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { JobRepository, JobRow, PendingItem } from '../store/JobRepository.js';
import { yieldToInteractive } from './yieldToInteractive.js';

/** What the runner needs of the data plane. */
export interface JobInference {
  /** The version that answers (an idle-unloaded one loads again first). */
  resolve(model: string, version: string): Promise<ServedVersion>;
  /** An item's OIP request through the version's batcher and workers (serving/oipCodec's answerOip). */
  infer(served: ServedVersion, body: unknown): Promise<InferResponse>;
}

export interface JobRunnerDeps {
  repository: JobRepository;
  inference: JobInference;
  /** Interactive inference requests in flight now; the runner gives way while there are any. */
  interactiveInFlight: () => number;
  onError: (error: unknown, jobId: string) => void;
  now?: () => Date;
}

/**
 * Items run together when the server is otherwise idle: enough for the dynamic batcher to combine
 * them and keep every worker busy, few enough that an interactive request arriving meanwhile waits
 * behind at most this many job items, and that a cancel or a stop takes effect soon.
 */
const CHUNK_ITEMS = 8;
/**
 * Starvation guard: under continuous interactive load a job still runs one item after waiting this
 * long, so it finishes eventually (at ~4 items/s) while taking almost nothing from the interactive
 * traffic.
 */
const MAX_YIELD_MS = 250;
const POLL_MS = 5;
/** A version that is loading or unloaded, a lost worker, a full queue: the item is tried again after this. */
const RETRY_MS = 1000;

/** Errors about the version itself rather than the item: the whole job fails (its pinned version is gone). */
const VERSION_GONE = new Set(['IBX_ERR_MODEL_NOT_FOUND', 'IBX_ERR_VERSION_NOT_FOUND']);
/**
 * 503s are about the moment, not the input: the item is retried, never given a result. So is a
 * full disk (the result could not be committed): the item runs again once there is room.
 */
const isTransient = (error: unknown) => (isInferboxError(error) && error.status === 503) || isDiskFull(error);

/**
 * Runs async prediction jobs in the background, one job at a time (oldest first), a few items at a
 * time, through the normal data plane (batching, cache and served precision apply) at lower
 * priority than interactive requests. Each item's result is committed with the job's counters in
 * one transaction and only items without a result are picked, so a stop or a crash loses nothing
 * and repeats nothing that was committed: an item that was running is simply run again.
 */
export class JobRunner {
  private readonly stop = new AbortController();
  private readonly now: () => Date;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly deps: JobRunnerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Starts the background loop; jobs a stop or crash interrupted are picked up first. */
  start(): void {
    this.loop ??= this.runAll();
  }

  /** A job was submitted: an idle loop looks again. */
  notify(): void {
    this.wakeUp?.();
  }

  /** Stops after the items in flight have committed their results; the job resumes on the next start. */
  async close(): Promise<void> {
    this.stop.abort();
    this.wakeUp?.();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  private async runAll(): Promise<void> {
    while (!this.stopped) {
      const job = this.deps.repository.nextRunnable();
      if (!job) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      try {
        await this.runJob(job);
      } catch (error) {
        this.deps.onError(error, job.id);
        if (isDiskFull(error)) {
          // Not the job's fault: it waits for room (the loop must survive, or the rejection ends the process).
          await this.pause();
          continue;
        }
        // A bug (or the database failing): record it on the job rather than retrying it forever.
        try {
          this.deps.repository.finish(job.id, 'failed', 'internal error while running the job (see the server log)', this.at());
        } catch (finishError) {
          this.deps.onError(finishError, job.id);
          await this.pause();
        }
      }
    }
  }

  private at(): string {
    return this.now().toISOString();
  }

  private async runJob(job: JobRow): Promise<void> {
    this.deps.repository.markRunning(job.id, this.at());
    let plan: CardPlan | undefined;
    while (!this.stopped) {
      // Read each round: a cancel or delete from the API takes effect at the next chunk.
      if (this.deps.repository.get(job.id)?.state !== 'running') return;
      const idle = await yieldToInteractive(this.deps.interactiveInFlight, { maxWaitMs: MAX_YIELD_MS, pollMs: POLL_MS, signal: this.stop.signal });
      if (this.stopped) return;
      const items = this.deps.repository.pendingItems(job.id, idle ? CHUNK_ITEMS : 1);
      if (items.length === 0) {
        this.deps.repository.finish(job.id, 'succeeded', null, this.at());
        return;
      }
      let served: ServedVersion;
      try {
        served = await this.deps.inference.resolve(job.model_name, job.version);
      } catch (error) {
        if (isInferboxError(error) && VERSION_GONE.has(error.code)) {
          this.deps.repository.finish(job.id, 'failed', `the job's version is gone: ${error.message}`, this.at());
          return;
        }
        if (!isTransient(error)) throw error;
        await this.pause();
        continue;
      }
      plan ??= job.card_json === null ? undefined : this.planOf(job, served);
      const retry = await Promise.all(items.map((item) => this.runItem(job.id, served, item, plan)));
      if (retry.some(Boolean)) await this.pause();
    }
  }

  /**
   * A prediction job's plan: the card it was submitted with (a later edit does not change how its
   * results read), on its pinned version.
   */
  private planOf(job: JobRow, served: ServedVersion): CardPlan {
    const result = planCard(modelCardSchema.parse(JSON.parse(job.card_json!)), served);
    // Checked against this pinned version at submission, and a version never changes: a bug otherwise.
    if ('problems' in result) throw new Error(`job ${job.id}: its card no longer fits version ${served.version}: ${result.problems.join('; ')}`);
    return result.plan;
  }

  /** Runs one item and commits its result (a prediction job's: the row's prediction); true when it should be tried again later. */
  private async runItem(jobId: string, served: ServedVersion, item: PendingItem, plan: CardPlan | undefined): Promise<boolean> {
    try {
      const response = await this.deps.inference.infer(served, item.request);
      const outputs = plan ? predictionsFromOutputs(plan, response.outputs, served.name, served.version)[0] : response.outputs;
      this.deps.repository.commitResult(jobId, item.index, { outputs }, this.at());
    } catch (error) {
      if (isTransient(error)) return true;
      // The item's own error (refused by onnxruntime, say) is its result; a bug is logged and kept generic.
      if (!isInferboxError(error)) this.deps.onError(error, jobId);
      const message = isInferboxError(error) ? error.message : 'internal error (see the server log)';
      this.deps.repository.commitResult(jobId, item.index, { error: message }, this.at());
    }
    return false;
  }

  private async pause(): Promise<void> {
    await sleep(RETRY_MS, undefined, { signal: this.stop.signal }).catch(() => undefined);
  }
}
