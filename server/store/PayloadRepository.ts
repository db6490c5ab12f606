import type { SqliteDatabase } from './openDatabase.js';
import { payloadWhere, type PayloadFilter } from './payloadWhere.js';

/** One logged inference payload (payload logging on for its model). */
export interface PayloadRow {
  ts: string;
  request_id: string;
  model: string;
  version: string | null;
  key_id: string | null;
  /** `{"request": …, "response": …}`, each cut at 64 KiB. */
  payload_json: string;
}

export interface StoredPayloadRow extends PayloadRow {
  id: number;
}

/** What a listing shows: everything but the content, which only an (audited) export reveals. */
export interface PayloadSummaryRow extends Omit<StoredPayloadRow, 'payload_json'> {
  bytes: number;
}

const COLUMNS = { model: 'model', ts: 'ts', requestId: 'request_id' };

/** Inference payloads, in their own table so that their retention and erasure are their own. */
export class PayloadRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** Rows of a model deleted since they were buffered are dropped (its payloads went with it). */
  insertMany(rows: readonly PayloadRow[]): void {
    const insert = this.db.prepare(
      `INSERT INTO inference_payloads (ts, request_id, model, version, key_id, payload_json)
       SELECT @ts, @request_id, @model, @version, @key_id, @payload_json WHERE EXISTS (SELECT 1 FROM models WHERE name = @model)`,
    );
    this.db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
  }

  /** Newest first, without the content. */
  list(filter: PayloadFilter, limit: number, offset: number): { rows: PayloadSummaryRow[]; total: number } {
    const { sql, params } = payloadWhere(filter, COLUMNS);
    const rows = this.db
      .prepare(`SELECT id, ts, request_id, model, version, key_id, length(payload_json) AS bytes FROM inference_payloads WHERE ${sql} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as PayloadSummaryRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM inference_payloads WHERE ${sql}`).get(...params) as { n: number };
    return { rows, total: n };
  }

  /** How many rows match, and the newest id among them (an export stops there, so its count is exact). */
  snapshot(filter: PayloadFilter): { count: number; lastId: number } {
    const { sql, params } = payloadWhere(filter, COLUMNS);
    const { n, last } = this.db.prepare(`SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM inference_payloads WHERE ${sql}`).get(...params) as { n: number; last: number };
    return { count: n, lastId: last };
  }

  /** Oldest first, `limit` rows with ids in (afterId, throughId]. */
  page(filter: PayloadFilter, afterId: number, throughId: number, limit: number): StoredPayloadRow[] {
    const { sql, params } = payloadWhere(filter, COLUMNS);
    return this.db.prepare(`SELECT * FROM inference_payloads WHERE ${sql} AND id > ? AND id <= ? ORDER BY id LIMIT ?`).all(...params, afterId, throughId, limit) as StoredPayloadRow[];
  }

  /** Deletes at most `limit` matching rows (the oldest); returns how many. */
  delete(filter: PayloadFilter, limit: number): number {
    const { sql, params } = payloadWhere(filter, COLUMNS);
    return this.db.prepare(`DELETE FROM inference_payloads WHERE id IN (SELECT id FROM inference_payloads WHERE ${sql} ORDER BY id LIMIT ?)`).run(...params, limit).changes;
  }

  /** Models that have stored payloads (the retention purge visits each with its own window). */
  models(): string[] {
    return (this.db.prepare('SELECT DISTINCT model FROM inference_payloads').all() as { model: string }[]).map((r) => r.model);
  }
}
