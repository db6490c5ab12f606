import type { RequestLogRepository, RequestLogRow } from '../store/RequestLogRepository.js';

export interface RequestLogWriterSettings {
  /** How often buffered rows are written, in ms. */
  flushIntervalMs: number;
  /** Write early when this many rows are waiting. */
  maxBuffered: number;
}

export const DEFAULT_REQUEST_LOG_WRITER: RequestLogWriterSettings = { flushIntervalMs: 500, maxBuffered: 1000 };

/**
 * Keeps request-log writes off the inference path: rows are buffered in memory and written in one
 * transaction per flush. A failed write is reported and the rows dropped, never retried forever.
 */
export class RequestLogWriter {
  private buffer: RequestLogRow[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly repository: RequestLogRepository,
    private readonly onError: (error: unknown, dropped: number) => void,
    private readonly settings: RequestLogWriterSettings = DEFAULT_REQUEST_LOG_WRITER,
  ) {
    this.timer = setInterval(() => this.flush(), settings.flushIntervalMs);
    this.timer.unref();
  }

  append(row: RequestLogRow): void {
    this.buffer.push(row);
    if (this.buffer.length >= this.settings.maxBuffered) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    try {
      this.repository.insertMany(rows);
    } catch (error) {
      this.onError(error, rows.length);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
