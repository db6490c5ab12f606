import type { SqliteDatabase } from './openDatabase.js';

export interface WebhookRow {
  id: string;
  url: string;
  secret: string;
  events: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

interface WebhookRecord extends Omit<WebhookRow, 'events' | 'enabled'> {
  events_json: string;
  enabled: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const fromRecord = ({ events_json, enabled, ...rest }: WebhookRecord): WebhookRow => ({ ...rest, events: JSON.parse(events_json) as string[], enabled: enabled === 1 });

/** Webhook endpoints and their deliveries (pending ones are the queue; the rest are the log). */
export class WebhookRepository {
  constructor(private readonly db: SqliteDatabase) {}

  list(): WebhookRow[] {
    return (this.db.prepare('SELECT * FROM webhooks ORDER BY created_at, id').all() as WebhookRecord[]).map(fromRecord);
  }

  get(id: string): WebhookRow | undefined {
    const record = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRecord | undefined;
    return record && fromRecord(record);
  }

  insert(row: WebhookRow): void {
    const { events, enabled, ...rest } = row;
    this.db
      .prepare('INSERT INTO webhooks (id, url, secret, events_json, enabled, created_at, updated_at) VALUES (@id, @url, @secret, @events_json, @enabled, @created_at, @updated_at)')
      .run({ ...rest, events_json: JSON.stringify(events), enabled: enabled ? 1 : 0 });
  }

  update(id: string, change: { url: string; events: string[]; enabled: boolean; updated_at: string }): void {
    this.db
      .prepare('UPDATE webhooks SET url = ?, events_json = ?, enabled = ?, updated_at = ? WHERE id = ?')
      .run(change.url, JSON.stringify(change.events), change.enabled ? 1 : 0, change.updated_at, id);
  }

  /** Its deliveries go with it (pending ones are never sent). */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
  }

  /** One event's deliveries, to every endpoint it goes to, in one transaction. */
  insertDeliveries(rows: DeliveryRow[]): void {
    const insert = this.db.prepare(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at)
       VALUES (@id, @webhook_id, @event_id, @event_type, @body, @status, @attempts, @next_attempt_at, @last_status_code, @last_error, @created_at, @updated_at)`,
    );
    this.db.transaction(() => { for (const row of rows) insert.run(row); })();
  }

  /** Pending deliveries due by `now`, oldest first. */
  due(now: string, limit: number): DeliveryRow[] {
    return this.db.prepare("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?").all(now, limit) as DeliveryRow[];
  }

  /** When the next pending delivery falls due, or null when none is pending. */
  nextDue(): string | null {
    const row = this.db.prepare("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'").get() as { at: string | null };
    return row.at;
  }

  recordAttempt(id: string, outcome: Pick<DeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'updated_at'>): void {
    this.db
      .prepare('UPDATE webhook_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next_attempt_at, last_status_code = @last_status_code, last_error = @last_error, updated_at = @updated_at WHERE id = @id')
      .run({ ...outcome, id });
  }

  getDelivery(id: string): DeliveryRow | undefined {
    return this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
  }

  /** The delivery log of one endpoint, newest first. */
  deliveries(webhookId: string, limit: number): DeliveryRow[] {
    return this.db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(webhookId, limit) as DeliveryRow[];
  }

  /** Finished deliveries older than `before` leave the log (pending ones stay until they finish). */
  purgeFinishedBefore(before: string): void {
    this.db.prepare("DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?").run(before);
  }
}
