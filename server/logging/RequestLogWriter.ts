import type { PayloadRepository, PayloadRow } from '../store/PayloadRepository.js';
import type { RequestLogRepository, RequestLogRow } from '../store/RequestLogRepository.js';

export interface RequestLogWriterSettings {
  /** How often buffered rows are written, in ms. */
  flushIntervalMs: number;
  /** Write early when this many rows are waiting. */
  maxBuffered: number;
}

/** The latest write that failed, while no later write has succeeded: the console shows it. */
export interface RequestLogFailure {
  at: string;
  /** Rows dropped since writes began failing. */
  dropped: number;
  message: string;
}

export const DEFAULT_REQUEST_LOG_WRITER: RequestLogWriterSettings = { flushIntervalMs: 500, maxBuffered: 1000 };

/**
 * Keeps request-log writes off the inference path: rows (and the payloads of models that log them)
 * are buffered in memory and written in one transaction per table per flush. A failed write is
 * reported and the rows dropped, never retried forever (a full disk must not grow memory without
 * bound, nor stop inference); until a write succeeds again, `failure` says what is being lost.
 */
export class RequestLogWriter {
  private buffer: RequestLogRow[] = [];
  private payloads: PayloadRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private currentFailure: RequestLogFailure | null = null;

  constructor(
    private readonly repository: RequestLogRepository,
    private readonly payloadRepository: PayloadRepository,
    private readonly onError: (error: unknown, dropped: number) => void,
    private readonly settings: RequestLogWriterSettings = DEFAULT_REQUEST_LOG_WRITER,
  ) {
    this.timer = setInterval(() => this.flush(), settings.flushIntervalMs);
    this.timer.unref();
  }

  append(row: RequestLogRow, payload?: PayloadRow): void {
    this.buffer.push(row);
    if (payload) this.payloads.push(payload);
    if (this.buffer.length >= this.settings.maxBuffered) setImmediate(() => this.flush());
  }

  flush(): void {
    const [rows, payloads] = [this.buffer, this.payloads];
    [this.buffer, this.payloads] = [[], []];
    this.write(rows, (r) => this.repository.insertMany(r));
    this.write(payloads, (p) => this.payloadRepository.insertMany(p));
  }

  private write<T>(rows: T[], insert: (rows: T[]) => void): void {
    if (rows.length === 0) return;
    try {
      insert(rows);
      this.currentFailure = null;
    } catch (error) {
      this.currentFailure = { at: new Date().toISOString(), dropped: (this.currentFailure?.dropped ?? 0) + rows.length, message: error instanceof Error ? error.message : String(error) };
      this.onError(error, rows.length);
    }
  }

  get failure(): RequestLogFailure | null {
    return this.currentFailure;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
