import type { SqliteDatabase } from './openDatabase.js';
import { truncateWal } from './truncateWal.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobSource = 'json' | 'jsonl' | 'csv';

export interface JobRow {
  id: string;
  model_name: string;
  version: string;
  state: JobState;
  source: JobSource;
  total: number;
  /** Items with a result (answered or failed). */
  done: number;
  /** Items whose result is an error. */
  failed: number;
  /** Why the whole job failed (a deleted version, say); null otherwise. */
  error: string | null;
  created_by_key: string | null;
  created_by_name: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  /** A prediction job's model card (named-feature rows, labelled results); null for a tensor job. */
  card_json: string | null;
}

export type NewJob = Pick<JobRow, 'id' | 'model_name' | 'version' | 'source' | 'created_by_key' | 'created_by_name' | 'created_at'> & Partial<Pick<JobRow, 'card_json'>>;

export interface PendingItem {
  index: number;
  /** The item's OIP infer request body. */
  request: unknown;
}

export interface JobResultRow {
  index: number;
  /** The item's OIP outputs (shape owned by server/inference), or its prediction in a prediction job; null when it failed. */
  outputs: unknown;
  error: string | null;
}

export interface JobQuery {
  /** Only this key's jobs (non-admin callers). */
  created_by_key?: string | undefined;
  state?: JobState | undefined;
  model?: string | undefined;
  limit: number;
  offset: number;
}

const COLUMNS = 'id, model_name, version, state, source, total, done, failed, error, created_by_key, created_by_name, created_at, started_at, finished_at, updated_at, card_json';
const FINISHED: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** Async prediction jobs: the job rows, their item requests and one result per item. */
export class JobRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** The job and all its item requests, in one transaction (a job is never half-submitted). */
  insert(job: NewJob, requests: readonly string[]): JobRow {
    const insertJob = this.db.prepare(
      `INSERT INTO jobs (id, model_name, version, state, source, total, created_by_key, created_by_name, created_at, updated_at, card_json)
       VALUES (@id, @model_name, @version, 'queued', @source, @total, @created_by_key, @created_by_name, @created_at, @created_at, @card_json)`,
    );
    const insertInput = this.db.prepare('INSERT INTO job_inputs (job_id, idx, request_json) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      insertJob.run({ card_json: null, ...job, total: requests.length });
      requests.forEach((request, index) => insertInput.run(job.id, index, request));
    })();
    return this.get(job.id)!;
  }

  get(id: string): JobRow | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
  }

  /** Newest first. */
  query(q: JobQuery): { rows: JobRow[]; total: number } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (q.created_by_key !== undefined) { clauses.push('created_by_key = ?'); params.push(q.created_by_key); }
    if (q.state !== undefined) { clauses.push('state = ?'); params.push(q.state); }
    if (q.model !== undefined) { clauses.push('model_name = ?'); params.push(q.model); }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM jobs ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as JobRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM jobs ${where}`).get(...params) as { n: number };
    return { rows, total: n };
  }

  /** The oldest job still to run: one a stop or crash interrupted (running) comes before newer queued ones. */
  nextRunnable(): JobRow | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY seq LIMIT 1`).get() as JobRow | undefined;
  }

  markRunning(id: string, at: string): void {
    this.db.prepare("UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, @at), updated_at = @at WHERE id = @id AND state IN ('queued', 'running')").run({ id, at });
  }

  /** Items without a result, in index order: a half-run item (its result never committed) is simply picked again. */
  pendingItems(id: string, limit: number): PendingItem[] {
    const rows = this.db
      .prepare(
        `SELECT i.idx, i.request_json FROM job_inputs i
         WHERE i.job_id = ? AND NOT EXISTS (SELECT 1 FROM job_results r WHERE r.job_id = i.job_id AND r.idx = i.idx)
         ORDER BY i.idx LIMIT ?`,
      )
      .all(id, limit) as { idx: number; request_json: string }[];
    return rows.map((row) => ({ index: row.idx, request: JSON.parse(row.request_json) as unknown }));
  }

  /**
   * The item's result and the job's counters in one transaction: after a crash both are there or
   * neither. Returns false (nothing written) when the job is gone or the item already has a result.
   */
  commitResult(id: string, index: number, result: { outputs: unknown } | { error: string }, at: string): boolean {
    const outputs = 'outputs' in result ? JSON.stringify(result.outputs) : null;
    const error = 'error' in result ? result.error : null;
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          `INSERT INTO job_results (job_id, idx, outputs_json, error, finished_at)
           SELECT @id, @index, @outputs, @error, @at WHERE EXISTS (SELECT 1 FROM jobs WHERE id = @id)
           ON CONFLICT (job_id, idx) DO NOTHING`,
        )
        .run({ id, index, outputs, error, at }).changes;
      if (inserted === 0) return false;
      this.db.prepare('UPDATE jobs SET done = done + 1, failed = failed + @failed, updated_at = @at WHERE id = @id').run({ id, failed: error === null ? 0 : 1, at });
      return true;
    })();
  }

  /** Ends a job that is still queued or running; its item requests are no longer needed (results stay). */
  finish(id: string, state: Extract<JobState, 'succeeded' | 'failed' | 'cancelled'>, error: string | null, at: string): boolean {
    const finished = this.db.transaction(() => {
      const changed = this.db
        .prepare("UPDATE jobs SET state = @state, error = @error, finished_at = @at, updated_at = @at WHERE id = @id AND state IN ('queued', 'running')")
        .run({ id, state, error, at }).changes;
      if (changed > 0) this.db.prepare('DELETE FROM job_inputs WHERE job_id = ?').run(id);
      return changed > 0;
    })();
    if (finished) this.eraseFromWal();
    return finished;
  }

  delete(id: string): boolean {
    const deleted = this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
    if (deleted) this.eraseFromWal();
    return deleted;
  }

  /**
   * Deleted job data (inputs, results) is zeroed in the database (secure_delete), but the WAL still
   * holds the pages as they were when written, until a checkpoint lets SQLite reuse it. Jobs carry
   * business payloads, so after deleting some the WAL is checkpointed and truncated (a few ms, once
   * per job). Best effort: while another connection (the keys CLI) reads an older snapshot, SQLite
   * keeps the frames it needs and the next job's checkpoint removes them.
   */
  private eraseFromWal(): void {
    truncateWal(this.db);
  }

  /** Results in index order from `afterIndex` on, a page at a time (downloads stream page by page). */
  results(id: string, afterIndex: number, limit: number): JobResultRow[] {
    const rows = this.db
      .prepare('SELECT idx, outputs_json, error FROM job_results WHERE job_id = ? AND idx > ? ORDER BY idx LIMIT ?')
      .all(id, afterIndex, limit) as { idx: number; outputs_json: string | null; error: string | null }[];
    return rows.map((row) => ({ index: row.idx, outputs: row.outputs_json === null ? null : (JSON.parse(row.outputs_json) as unknown), error: row.error }));
  }

  /** The outputs of the lowest-index item that has them (CSV downloads lay out their columns from it). */
  firstAnswered(id: string): unknown[] | undefined {
    const row = this.db.prepare('SELECT outputs_json FROM job_results WHERE job_id = ? AND outputs_json IS NOT NULL ORDER BY idx LIMIT 1').get(id) as { outputs_json: string } | undefined;
    return row ? (JSON.parse(row.outputs_json) as unknown[]) : undefined;
  }

  /** Deletes finished jobs (with their results) that ended before `before`; returns how many. */
  purgeFinishedBefore(before: string): number {
    const purged = this.db.prepare(`DELETE FROM jobs WHERE finished_at < ? AND state IN (${FINISHED.map((s) => `'${s}'`).join(', ')})`).run(before).changes;
    if (purged > 0) this.eraseFromWal();
    return purged;
  }
}
