import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { inferboxError } from '../common/errors.js';
import { parseRequest } from '../common/parseRequest.js';
import type { DeliveryRow, WebhookRepository, WebhookRow } from '../store/WebhookRepository.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhookEventTypes.js';
import { webhookUrlSchema } from './webhookUrlSchema.js';

const eventsSchema = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).refine((events) => new Set(events).size === events.length, { message: 'each event once' });

const createSchema = z.object({ url: webhookUrlSchema, events: eventsSchema.default([...WEBHOOK_EVENT_TYPES]), enabled: z.boolean().default(true) }).strict();
const updateSchema = z.object({ url: webhookUrlSchema.optional(), events: eventsSchema.optional(), enabled: z.boolean().optional() }).strict();

/** An endpoint as the API shows it: never its secret, except once at creation. */
export type WebhookView = Omit<WebhookRow, 'secret'>;

/** A delivery as the log shows it. */
export type DeliveryView = Omit<DeliveryRow, 'body'> & { body: unknown };

export interface WebhookServiceDeps {
  repository: WebhookRepository;
  /** A new delivery is pending: the dispatcher should look now rather than at its next timer. */
  notify: () => void;
  /** Queuing an event failed (logged): what caused the event must not fail because of it. */
  onError: (error: unknown, type: string) => void;
  now?: () => Date;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const view = ({ secret: _secret, ...rest }: WebhookRow): WebhookView => rest;

/**
 * Webhook endpoints (admin-configured) and the events they receive. `emit` turns an event into one
 * pending delivery row per subscribed, enabled endpoint, in one transaction; the dispatcher sends
 * them. Each endpoint has its own signing secret, made here (32 random bytes) and shown once.
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private row(id: string): WebhookRow {
    const row = this.deps.repository.get(id);
    if (!row) throw inferboxError('IBX_ERR_WEBHOOK_NOT_FOUND', id);
    return row;
  }

  list(): WebhookView[] {
    return this.deps.repository.list().map(view);
  }

  create(body: unknown): WebhookView & { secret: string } {
    const input = parseRequest(createSchema, body);
    const at = this.now();
    const row: WebhookRow = { id: newId('wh'), url: input.url, secret: `whsec_${randomBytes(32).toString('base64url')}`, events: input.events, enabled: input.enabled, created_at: at, updated_at: at };
    this.deps.repository.insert(row);
    return { ...view(row), secret: row.secret };
  }

  update(id: string, body: unknown): WebhookView {
    const row = this.row(id);
    const change = parseRequest(updateSchema, body);
    this.deps.repository.update(id, { url: change.url ?? row.url, events: change.events ?? row.events, enabled: change.enabled ?? row.enabled, updated_at: this.now() });
    return view(this.row(id));
  }

  delete(id: string): void {
    if (!this.deps.repository.delete(id)) throw inferboxError('IBX_ERR_WEBHOOK_NOT_FOUND', id);
  }

  /** Queues the event for every enabled endpoint subscribed to it; never throws. */
  emit(type: WebhookEventType, data: Record<string, unknown>): void {
    try {
      this.enqueue(type, data, this.deps.repository.list().filter((w) => w.enabled && w.events.includes(type)));
    } catch (error) {
      this.deps.onError(error, type);
    }
  }

  /** A `webhook.test` event to this endpoint only (also when it is disabled: the admin asked). */
  test(id: string): { event_id: string; delivery_id: string } {
    const { eventId, deliveryIds } = this.enqueue('webhook.test', { message: 'a test delivery from Inferbox' }, [this.row(id)]);
    return { event_id: eventId, delivery_id: deliveryIds[0]! };
  }

  /** The endpoint's delivery log, newest first. */
  deliveries(id: string, limit: number): DeliveryView[] {
    this.row(id);
    return this.deps.repository.deliveries(id, limit).map((d) => ({ ...d, body: JSON.parse(d.body) as unknown }));
  }

  private enqueue(type: string, data: Record<string, unknown>, targets: WebhookRow[]): { eventId: string; deliveryIds: string[] } {
    const eventId = newId('evt');
    if (targets.length === 0) return { eventId, deliveryIds: [] };
    const at = this.now();
    // The body is fixed here and stored: every attempt sends (and signs) the same bytes.
    const body = JSON.stringify({ id: eventId, type, created_at: at, data });
    const rows = targets.map((w): DeliveryRow => ({
      id: newId('dlv'),
      webhook_id: w.id,
      event_id: eventId,
      event_type: type,
      body,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_status_code: null,
      last_error: null,
      created_at: at,
      updated_at: at,
    }));
    this.deps.repository.insertDeliveries(rows);
    this.deps.notify();
    return { eventId, deliveryIds: rows.map((r) => r.id) };
  }
}
