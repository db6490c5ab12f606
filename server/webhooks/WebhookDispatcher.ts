import { messageOf } from '../common/errors.js';
import type { DeliveryRow, WebhookRepository } from '../store/WebhookRepository.js';
import { PublicAddressRefused, resolveLanTarget, type Lookup } from './resolveLanTarget.js';
import { sendWebhook } from './sendWebhook.js';
import { signWebhook } from './signWebhook.js';

export interface DeliverySettings {
  /** Attempts per delivery, the first included; then it is marked failed. */
  maxAttempts: number;
  /** Wait before the second attempt; it doubles after each failure… */
  retryInitialSeconds: number;
  /** …up to this. */
  retryMaxSeconds: number;
  /** One attempt without an answer this long fails. */
  timeoutSeconds: number;
}

export interface WebhookDispatcherDeps {
  repository: WebhookRepository;
  /** Read at every attempt, so changed settings apply to the next one. */
  settings: () => DeliverySettings;
  userAgent: string;
  /** Name resolution (the system's by default). */
  lookup?: Lookup;
  onError: (error: unknown) => void;
  now?: () => Date;
}

/** Deliveries in flight at once (across endpoints): webhooks are a trickle, never a load. */
const CONCURRENCY = 4;
/** The longest sleep between looks at the queue (a clock change or a missed notify heals by then). */
const MAX_SLEEP_MS = 60_000;

/**
 * Sends pending deliveries in the background: each due row is signed and POSTed; a 2xx marks it
 * delivered; anything else (an error status, a timeout, a refused connection) schedules the next
 * attempt after an exponential back-off, until `maxAttempts`, then it is failed. A name that
 * resolves outside the LAN fails at once (retrying does not make it safe). The queue is the
 * table, so a restart resumes every pending delivery; a delivery whose attempt a crash cut short
 * is sent again (at-least-once: receivers dedupe on the event id).
 */
export class WebhookDispatcher {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stop = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly deps: WebhookDispatcherDeps) {}

  private nowDate(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Starts sending (resuming what a stop or crash left pending). */
  start(): void {
    this.running = true;
    this.notify();
  }

  /** New deliveries are pending: look now. */
  notify(): void {
    if (!this.running || this.stop.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), 0);
    this.timer.unref();
  }

  private pump(): void {
    try {
      const free = CONCURRENCY - this.inFlight.size;
      // Full: a finishing attempt looks again.
      if (free === 0) return;
      const due = this.deps.repository.due(this.nowDate().toISOString(), CONCURRENCY * 2).filter((d) => !this.inFlight.has(d.id)).slice(0, free);
      for (const delivery of due) {
        const attempt = this.attempt(delivery).catch(this.deps.onError).finally(() => {
          this.inFlight.delete(delivery.id);
          this.notify();
        });
        this.inFlight.set(delivery.id, attempt);
      }
      this.sleepUntilNextDue();
    } catch (error) {
      this.deps.onError(error);
      this.sleep(MAX_SLEEP_MS);
    }
  }

  private sleepUntilNextDue(): void {
    const next = this.deps.repository.nextDue();
    if (next === null) return this.sleep(MAX_SLEEP_MS);
    const wait = Date.parse(next) - this.nowDate().getTime();
    // Due already: those are in flight now, and a finishing attempt looks again.
    if (wait <= 0 && this.inFlight.size > 0) return;
    this.sleep(wait);
  }

  private sleep(ms: number): void {
    if (this.stop.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.min(Math.max(ms, 10), MAX_SLEEP_MS));
    this.timer.unref();
  }

  private async attempt(delivery: DeliveryRow): Promise<void> {
    const webhook = this.deps.repository.get(delivery.webhook_id);
    if (!webhook) return; // deleted meanwhile: its deliveries went with it
    const settings = this.deps.settings();
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    let final = false;
    try {
      const url = new URL(webhook.url);
      const target = await resolveLanTarget(url.hostname, this.deps.lookup);
      const timestamp = Math.floor(this.nowDate().getTime() / 1000);
      const answer = await sendWebhook({
        url,
        target,
        body: delivery.body,
        timeoutMs: settings.timeoutSeconds * 1000,
        signal: this.stop.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': this.deps.userAgent,
          'inferbox-event': delivery.event_type,
          'inferbox-event-id': delivery.event_id,
          'inferbox-delivery': delivery.id,
          'inferbox-signature': signWebhook(webhook.secret, timestamp, delivery.body),
        },
      });
      status = answer.status;
      if (status < 200 || status >= 300) error = `HTTP ${status}${answer.snippet ? `: ${answer.snippet}` : ''}`;
    } catch (failure) {
      // A stop cut this attempt short: it does not count, and the delivery stays due for the next start.
      if (this.stop.signal.aborted) return;
      error = messageOf(failure);
      final = failure instanceof PublicAddressRefused;
    }
    const at = this.nowDate();
    const delivered = error === null;
    const failed = !delivered && (final || attempts >= settings.maxAttempts);
    const backoffSeconds = Math.min(settings.retryInitialSeconds * 2 ** (attempts - 1), settings.retryMaxSeconds);
    this.deps.repository.recordAttempt(delivery.id, {
      status: delivered ? 'delivered' : failed ? 'failed' : 'pending',
      attempts,
      next_attempt_at: delivered || failed ? null : new Date(at.getTime() + backoffSeconds * 1000).toISOString(),
      last_status_code: status,
      last_error: error,
      updated_at: at.toISOString(),
    });
  }

  /** Stops sending: attempts in flight are aborted and stay pending for the next start. */
  async close(): Promise<void> {
    this.running = false;
    this.stop.abort();
    clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
  }
}
