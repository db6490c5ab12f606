import type { SqliteDatabase } from './openDatabase.js';

export interface RequestLogRow {
  ts: string;
  request_id: string | null;
  model: string | null;
  version: string | null;
  key_id: string | null;
  status: number;
  error: string | null;
  total_ms: number;
  decode_ms: number | null;
  queue_ms: number | null;
  batch_ms: number | null;
  infer_ms: number | null;
  serialize_ms: number | null;
  /** Rows in the run the request was part of (0: answered from the cache). */
  batch_rows: number | null;
  /** The A/B experiment and variant that answered, and the unit, when an experiment routed it. */
  experiment_id: string | null;
  variant: string | null;
  unit_id: string | null;
  /** W3C trace id (32 hex digits): the caller's from `traceparent`, else one the server started. */
  trace_id: string | null;
  bytes_in: number;
  bytes_out: number;
}

export interface StoredRequestLogRow extends RequestLogRow {
  id: number;
}

export interface RequestLogQuery {
  model?: string | undefined;
  version?: string | undefined;
  key_id?: string | undefined;
  trace_id?: string | undefined;
  /** 'success' (2xx), 'error' (anything else), or an exact HTTP status. */
  status?: 'success' | 'error' | number | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  offset: number;
}

function whereClause(q: RequestLogQuery): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => { clauses.push(clause); params.push(value); };
  if (q.model !== undefined) add('model = ?', q.model);
  if (q.version !== undefined) add('version = ?', q.version);
  if (q.key_id !== undefined) add('key_id = ?', q.key_id);
  if (q.trace_id !== undefined) add('trace_id = ?', q.trace_id);
  if (q.since !== undefined) add('ts >= ?', q.since);
  if (q.until !== undefined) add('ts < ?', q.until);
  if (q.status === 'success') clauses.push('status BETWEEN 200 AND 299');
  else if (q.status === 'error') clauses.push('status NOT BETWEEN 200 AND 299');
  else if (typeof q.status === 'number') add('status = ?', q.status);
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export class RequestLogRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insertMany(rows: readonly RequestLogRow[]): void {
    const insert = this.db.prepare(
      `INSERT INTO request_log (ts, request_id, model, version, key_id, status, error, total_ms, decode_ms, queue_ms, batch_ms, infer_ms, serialize_ms, batch_rows, experiment_id, variant, unit_id, trace_id, bytes_in, bytes_out)
       VALUES (@ts, @request_id, @model, @version, @key_id, @status, @error, @total_ms, @decode_ms, @queue_ms, @batch_ms, @infer_ms, @serialize_ms, @batch_rows, @experiment_id, @variant, @unit_id, @trace_id, @bytes_in, @bytes_out)`,
    );
    this.db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
  }

  /** Newest first. */
  query(q: RequestLogQuery): { rows: StoredRequestLogRow[]; total: number } {
    const { sql, params } = whereClause(q);
    const rows = this.db.prepare(`SELECT * FROM request_log ${sql} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as StoredRequestLogRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM request_log ${sql}`).get(...params) as { n: number };
    return { rows, total: n };
  }

  /** The experiment and unit of a logged request (for feedback that names a request id). */
  experimentOfRequest(requestId: string): { experiment_id: string; unit_id: string } | undefined {
    return this.db
      .prepare('SELECT experiment_id, unit_id FROM request_log WHERE request_id = ? AND experiment_id IS NOT NULL AND unit_id IS NOT NULL ORDER BY id DESC LIMIT 1')
      .get(requestId) as { experiment_id: string; unit_id: string } | undefined;
  }

  /** Deletes rows older than `before`; returns how many. */
  purgeBefore(before: string): number {
    return this.db.prepare('DELETE FROM request_log WHERE ts < ?').run(before).changes;
  }
}
