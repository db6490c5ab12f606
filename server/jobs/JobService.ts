import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { inferboxError, isInferboxError } from '../common/errors.js';
import { assertModelName, assertVersion } from '../common/names.js';
import { parseRequest } from '../common/parseRequest.js';
import { decodeInferRequest } from '../inference/decodeInferRequest.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { JobQuery, JobRepository, JobRow, JobSource } from '../store/JobRepository.js';
import { csvResultLines, jsonResultLines } from './resultLines.js';
import type { JobItem } from './JobItem.js';
import { parseCsvItems } from './parseCsvItems.js';
import { parseJsonLines } from './parseJsonLines.js';

/** Who is asking: a non-admin key sees only the jobs it created. */
export interface JobOwner {
  keyId: string;
  name: string;
  admin: boolean;
}

export interface JobUpload {
  format: JobSource;
  body: Buffer;
  /** From the query string; a JSON body may name them itself. */
  model?: string | undefined;
  version?: string | undefined;
}

export interface JobServiceDeps {
  repository: JobRepository;
  /** The version that answers (InferenceService.resolve): 404 unknown, 503 not ready; an idle one loads first. */
  resolve: (model: string, version: string | undefined) => Promise<ServedVersion>;
  maxItems: () => number;
  /** Tells the runner a job is waiting. */
  notify: () => void;
  now?: () => Date;
}

/** A job as the API shows it. */
export interface JobView {
  id: string;
  state: JobRow['state'];
  model: string;
  version: string;
  source: JobSource;
  total: number;
  done: number;
  failed: number;
  error: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  results_url: string;
  /** The results so far, in index order, when the job is small enough to show them inline. */
  results?: ({ index: number; outputs: unknown[] } | { index: number; error: string })[];
}

const jobBodySchema = z.object({
  model: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  items: z.array(z.unknown()).min(1),
});

/** Jobs up to this many items show their results in GET /api/jobs/{id}; bigger ones only link them. */
const INLINE_RESULTS = 100;
/** Validation yields to the event loop every this many items: a large upload must not stall requests. */
const VALIDATE_SLICE = 256;

const newJobId = () => `job_${randomBytes(16).toString('hex')}`;

/**
 * Async prediction jobs as the API sees them: submission (parse the upload, check every item
 * against the pinned version's signature, store the job in one transaction), views, listing,
 * cancellation, deletion and result downloads. Running them is JobRunner's job.
 */
export class JobService {
  private readonly now: () => Date;

  constructor(private readonly deps: JobServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Refuses a bad upload as a whole (400 naming the item or line) rather than half-running it.
   * `mayInfer` is the caller's right to infer on the named model, checked before the model is
   * looked up, so a scoped key cannot probe which models exist.
   */
  async submit(upload: JobUpload, owner: JobOwner, mayInfer: (model: string) => boolean): Promise<JobView> {
    const { model, version, items: jsonItems } = upload.format === 'json' ? this.parseJsonBody(upload) : { model: upload.model, version: upload.version, items: undefined };
    if (model === undefined) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'name the model: ?model=<name> in the query string (or "model" in a JSON body)');
    assertModelName(model);
    if (version !== undefined) assertVersion(version);
    if (!mayInfer(model)) throw inferboxError('IBX_ERR_FORBIDDEN', `this key ('${owner.name}') does not have the 'infer' or 'infer:${model}' scope`);
    const maxItems = this.deps.maxItems();
    if (jsonItems && jsonItems.length > maxItems) throw inferboxError('IBX_ERR_JOB_TOO_LARGE', jsonItems.length, maxItems);
    const served = await this.deps.resolve(model, version);
    const text = () => upload.body.toString('utf8');
    const items = jsonItems ?? (upload.format === 'csv' ? parseCsvItems(text(), served) : parseJsonLines(text()));
    if (items.length === 0) throw inferboxError('IBX_ERR_JOB_INPUT', upload.format, 'the upload holds no items');
    if (items.length > maxItems) throw inferboxError('IBX_ERR_JOB_TOO_LARGE', items.length, maxItems);
    await this.validate(items, served);
    const job = this.deps.repository.insert(
      { id: newJobId(), model_name: served.name, version: served.version, source: upload.format, created_by_key: owner.keyId, created_by_name: owner.name, created_at: this.now().toISOString() },
      items.map((item) => JSON.stringify(item.request)),
    );
    this.deps.notify();
    return this.view(job);
  }

  private parseJsonBody(upload: JobUpload): { model: string | undefined; version: string | undefined; items: JobItem[] } {
    let value: unknown;
    try {
      value = JSON.parse(upload.body.toString('utf8'));
    } catch {
      throw inferboxError('IBX_ERR_INVALID_JSON', 'syntax error');
    }
    const body = parseRequest(jobBodySchema, value);
    return {
      model: body.model ?? upload.model,
      version: body.version ?? upload.version,
      items: body.items.map((request, i) => ({ label: `items[${i}]`, request })),
    };
  }

  /** The same checks as an interactive request (decodeInferRequest), item by item, naming the one that fails. */
  private async validate(items: readonly JobItem[], served: ServedVersion): Promise<void> {
    for (const [i, item] of items.entries()) {
      try {
        const decoded = decodeInferRequest(item.request, served);
        if (decoded.binaryOutputs.size > 0) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'binary outputs are not available in jobs (results are JSON)');
      } catch (error) {
        if (isInferboxError(error)) throw inferboxError('IBX_ERR_JOB_INPUT', item.label, error.message);
        throw error;
      }
      if ((i + 1) % VALIDATE_SLICE === 0) await nextTurn();
    }
  }

  /** The job if this caller may see it; 404 (not 403) otherwise, so job ids of other keys do not leak. */
  private visible(id: string, owner: JobOwner): JobRow {
    const job = this.deps.repository.get(id);
    if (!job || (!owner.admin && job.created_by_key !== owner.keyId)) throw inferboxError('IBX_ERR_JOB_NOT_FOUND', id);
    return job;
  }

  get(id: string, owner: JobOwner): JobView {
    return this.view(this.visible(id, owner));
  }

  list(query: Omit<JobQuery, 'created_by_key'>, owner: JobOwner): { jobs: JobView[]; total: number } {
    const { rows, total } = this.deps.repository.query({ ...query, ...(owner.admin ? {} : { created_by_key: owner.keyId }) });
    return { jobs: rows.map((row) => this.view(row, false)), total };
  }

  /** Stops a queued or running job at its next item; results so far are kept. Cancelling twice is fine. */
  cancel(id: string, owner: JobOwner): JobView {
    const job = this.visible(id, owner);
    if (job.state === 'succeeded' || job.state === 'failed') throw inferboxError('IBX_ERR_CONFLICT', `job '${id}' has already ${job.state === 'succeeded' ? 'succeeded' : 'failed'}; nothing to cancel`);
    this.deps.repository.finish(id, 'cancelled', null, this.now().toISOString());
    return this.get(id, owner);
  }

  /** Cancels (if still running) and deletes the job with its results. */
  delete(id: string, owner: JobOwner): void {
    this.visible(id, owner);
    this.deps.repository.delete(id);
  }

  /**
   * The results as lines, in index order, read a page at a time: JSON lines (any job), or CSV for
   * a job submitted as CSV (one row in, one row out).
   */
  results(id: string, owner: JobOwner, format: 'jsonl' | 'csv'): AsyncIterable<string> {
    const job = this.visible(id, owner);
    if (format === 'jsonl') return jsonResultLines(this.deps.repository, id);
    if (job.source !== 'csv') throw inferboxError('IBX_ERR_INVALID_REQUEST', 'format=csv is for jobs submitted as CSV; download JSON lines (the default) instead');
    return csvResultLines(this.deps.repository, id);
  }

  private view(job: JobRow, withResults = true): JobView {
    const view: JobView = {
      id: job.id,
      state: job.state,
      model: job.model_name,
      version: job.version,
      source: job.source,
      total: job.total,
      done: job.done,
      failed: job.failed,
      error: job.error,
      created_by: job.created_by_name,
      created_at: job.created_at,
      started_at: job.started_at,
      finished_at: job.finished_at,
      updated_at: job.updated_at,
      results_url: `/api/jobs/${job.id}/results`,
    };
    if (withResults && job.total <= INLINE_RESULTS) {
      view.results = this.deps.repository.results(job.id, -1, INLINE_RESULTS).map((r) => (r.outputs !== null ? { index: r.index, outputs: r.outputs } : { index: r.index, error: r.error ?? '' }));
    }
    return view;
  }
}
