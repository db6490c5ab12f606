import type { SqliteDatabase } from './openDatabase.js';

export interface AuditEntry {
  ts: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  remote_addr: string | null;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

interface AuditRecord extends Omit<StoredAuditEntry, 'details'> {
  details_json: string | null;
}

export interface AuditQuery {
  action?: string | undefined;
  actor_id?: string | undefined;
  since?: string | undefined;
  limit: number;
  offset: number;
}

export class AuditRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insert(entry: AuditEntry): void {
    const { details, ...rest } = entry;
    this.db
      .prepare(
        `INSERT INTO audit_log (ts, actor_id, actor_name, action, target, details_json, remote_addr)
         VALUES (@ts, @actor_id, @actor_name, @action, @target, @details_json, @remote_addr)`,
      )
      .run({ ...rest, details_json: details ? JSON.stringify(details) : null });
  }

  /** Newest first. */
  query(q: AuditQuery): { entries: StoredAuditEntry[]; total: number } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (q.action !== undefined) { clauses.push('action = ?'); params.push(q.action); }
    if (q.actor_id !== undefined) { clauses.push('actor_id = ?'); params.push(q.actor_id); }
    if (q.since !== undefined) { clauses.push('ts >= ?'); params.push(q.since); }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const records = this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as AuditRecord[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${where}`).get(...params) as { n: number };
    const entries = records.map(({ details_json, ...rest }) => ({ ...rest, details: details_json ? (JSON.parse(details_json) as Record<string, unknown>) : null }));
    return { entries, total: n };
  }
}
