import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { inferboxError, isInferboxError } from '../common/errors.js';
import { assertModelName, assertVersion } from '../common/names.js';
import { parseRequest } from '../common/parseRequest.js';
import { decodeInferRequest } from '../serving/decodeInferRequest.js';
import { encodeRows } from '../predict/encodeRows.js';
import type { CardPlan } from '../predict/planCard.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { JobQuery, JobRepository, JobRow, JobSource } from '../store/JobRepository.js';
import { csvPredictionLines, csvResultLines, jsonResultLines } from './resultLines.js';
import type { JobItem } from './JobItem.js';
import { parseCsvItems } from './parseCsvItems.js';
import { parseCsvRows } from './parseCsvRows.js';
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
  /** predict: rows of named features (the model card's) instead of OIP requests; a JSON body with "rows" is one. */
  kind?: JobKind | undefined;
}

/** infer: OIP requests in, OIP outputs out; predict: named-feature rows in, labels and scores out. */
export type JobKind = 'infer' | 'predict';

export interface JobServiceDeps {
  repository: JobRepository;
  /** The version that answers (InferenceService.resolve): 404 unknown, 503 not ready; an idle one loads first. */
  resolve: (model: string, version: string | undefined) => Promise<ServedVersion>;
  maxItems: () => number;
  /** The card plan of the version that answers (ModelCardService.planFor): 409 without a card. */
  planFor: (served: ServedVersion) => CardPlan;
  /** Tells the runner a job is waiting. */
  notify: () => void;
  now?: () => Date;
}

/** A job as the API shows it. */
export interface JobView {
  id: string;
  state: JobRow['state'];
  kind: JobKind;
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
  results?: ({ index: number; outputs: unknown } | { index: number; prediction: unknown } | { index: number; error: string })[];
}

const jobBodySchema = z
  .object({
    model: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    items: z.array(z.unknown()).min(1).optional(),
    rows: z.array(z.unknown()).min(1).optional(),
  })
  .strict()
  .refine((body) => (body.items === undefined) !== (body.rows === undefined), { message: 'give "items" (OIP infer requests) or "rows" (named features), one of them' });

/** A prediction job's row before it is checked: where it came from and whether its values are text (CSV). */
interface RowItem {
  label: string;
  row: unknown;
  fromText: boolean;
}

/** A prediction job's validation stops after this many bad rows: enough to fix a file in one go. */
const MAX_ROW_PROBLEMS = 20;

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
    const json = upload.format === 'json' ? this.parseJsonBody(upload) : undefined;
    const model = json?.model ?? upload.model;
    const version = json?.version ?? upload.version;
    const kind: JobKind = json ? (json.rows ? 'predict' : 'infer') : (upload.kind ?? 'infer');
    if (json && upload.kind !== undefined && upload.kind !== kind) throw inferboxError('IBX_ERR_INVALID_REQUEST', `kind=${upload.kind}, but the body has "${kind === 'predict' ? 'rows' : 'items'}"`);
    if (model === undefined) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'name the model: ?model=<name> in the query string (or "model" in a JSON body)');
    assertModelName(model);
    if (version !== undefined) assertVersion(version);
    if (!mayInfer(model)) throw inferboxError('IBX_ERR_FORBIDDEN', `this key ('${owner.name}') does not have the 'infer' or 'infer:${model}' scope`);
    const maxItems = this.deps.maxItems();
    const given = json?.items ?? json?.rows;
    if (given && given.length > maxItems) throw inferboxError('IBX_ERR_JOB_TOO_LARGE', given.length, maxItems);
    const served = await this.deps.resolve(model, version);
    const text = () => upload.body.toString('utf8');
    let requests: string[];
    let card: string | null = null;
    if (kind === 'predict') {
      const plan = this.deps.planFor(served);
      const rows: RowItem[] = json?.rows
        ? json.rows.map((row, i) => ({ label: `rows[${i}]`, row, fromText: false }))
        : upload.format === 'csv'
          ? parseCsvRows(text()).map(({ label, row }) => ({ label, row, fromText: true }))
          : parseJsonLines(text(), 'an object of feature values ({"name": value, …})').map(({ label, request }) => ({ label, row: request, fromText: false }));
      this.checkCount(rows.length, upload.format, maxItems);
      requests = await this.encodeRows(rows, plan);
      card = JSON.stringify(plan.card);
    } else {
      const items = json?.items?.map((request, i) => ({ label: `items[${i}]`, request })) ?? (upload.format === 'csv' ? parseCsvItems(text(), served) : parseJsonLines(text()));
      this.checkCount(items.length, upload.format, maxItems);
      await this.validate(items, served);
      requests = items.map((item) => JSON.stringify(item.request));
    }
    const job = this.deps.repository.insert(
      { id: newJobId(), model_name: served.name, version: served.version, source: upload.format, created_by_key: owner.keyId, created_by_name: owner.name, created_at: this.now().toISOString(), card_json: card },
      requests,
    );
    this.deps.notify();
    return this.view(job);
  }

  private checkCount(count: number, format: JobSource, maxItems: number): void {
    if (count === 0) throw inferboxError('IBX_ERR_JOB_INPUT', format, 'the upload holds no items');
    if (count > maxItems) throw inferboxError('IBX_ERR_JOB_TOO_LARGE', count, maxItems);
  }

  /**
   * Each row checked and encoded as its own OIP request (one item per row, so a model with a
   * fixed batch of 1 takes jobs too and the batcher combines them); up to 20 bad rows are named.
   */
  private async encodeRows(rows: readonly RowItem[], plan: CardPlan): Promise<string[]> {
    const requests: string[] = [];
    const problems: string[] = [];
    for (const [i, { label, row, fromText }] of rows.entries()) {
      try {
        requests.push(JSON.stringify(encodeRows(plan, [row], { labelOf: () => label, fromText }).value));
      } catch (error) {
        if (!isInferboxError(error)) throw error;
        problems.push(error.message);
        if (problems.length >= MAX_ROW_PROBLEMS) break;
      }
      if ((i + 1) % VALIDATE_SLICE === 0) await nextTurn();
    }
    if (problems.length > 0) throw inferboxError('IBX_ERR_PREDICT_INPUT', problems.join('; '));
    return requests;
  }

  private parseJsonBody(upload: JobUpload): z.infer<typeof jobBodySchema> {
    let value: unknown;
    try {
      value = JSON.parse(upload.body.toString('utf8'));
    } catch {
      throw inferboxError('IBX_ERR_INVALID_JSON', 'syntax error');
    }
    return parseRequest(jobBodySchema, value);
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
   * a prediction job or a tensor job submitted as CSV (one row in, one row out).
   */
  results(id: string, owner: JobOwner, format: 'jsonl' | 'csv'): AsyncIterable<string> {
    const job = this.visible(id, owner);
    const card = job.card_json === null ? null : (JSON.parse(job.card_json) as { output: { labels?: string[] } });
    if (format === 'jsonl') return jsonResultLines(this.deps.repository, id, card ? 'prediction' : 'outputs');
    if (card) return csvPredictionLines(this.deps.repository, id, card.output.labels);
    if (job.source !== 'csv') throw inferboxError('IBX_ERR_INVALID_REQUEST', 'format=csv is for jobs submitted as CSV; download JSON lines (the default) instead');
    return csvResultLines(this.deps.repository, id);
  }

  private view(job: JobRow, withResults = true): JobView {
    const view: JobView = {
      id: job.id,
      state: job.state,
      kind: job.card_json === null ? 'infer' : 'predict',
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
      view.results = this.deps.repository.results(job.id, -1, INLINE_RESULTS).map((r) => {
        if (r.outputs === null) return { index: r.index, error: r.error ?? '' };
        return view.kind === 'predict' ? { index: r.index, prediction: r.outputs } : { index: r.index, outputs: r.outputs };
      });
    }
    return view;
  }
}
