import type { PayloadRow } from '../store/PayloadRepository.js';
import type { RequestLogRow } from '../store/RequestLogRepository.js';
import type { LogBatchResult, RequestLogThread } from '../store/RequestLogThread.js';
import type { Store } from '../store/Store.js';

export interface RequestLogWriterSettings {
  /** How often buffered rows are handed to the writer thread, in ms. */
  flushIntervalMs: number;
  /** Hand over early when this many rows are waiting. */
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

/** While writes are suspended (a backup copies the database), at most this many rows wait; later ones are lost and counted. */
const SUSPENDED_MAX_ROWS = 200_000;

/** A failed write, as the writer thread reports it (SQLite's code kept: SQLITE_FULL is a full disk). */
class LogWriteError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
    this.name = 'LogWriteError';
  }
}

/**
 * Keeps request-log writes off the inference path: rows (and the payloads of models that log them)
 * are buffered in memory and handed every 500 ms to a writer thread with its own SQLite connection,
 * which writes each table in one transaction. A failed write is reported and the rows dropped,
 * never retried forever (a full disk must not grow memory without bound, nor stop inference);
 * until a write succeeds again, `failure` says what is being lost.
 */
export class RequestLogWriter {
  private buffer: RequestLogRow[] = [];
  private payloads: PayloadRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly thread: RequestLogThread;
  private currentFailure: RequestLogFailure | null = null;
  private suspended = 0;
  private lostWhileSuspended = 0;

  constructor(
    store: Pick<Store, 'openRequestLogThread'>,
    private readonly onError: (error: unknown, dropped: number) => void,
    private readonly settings: RequestLogWriterSettings = DEFAULT_REQUEST_LOG_WRITER,
  ) {
    this.thread = store.openRequestLogThread(
      (result) => this.written(result),
      (code) => this.fail(new LogWriteError(`the request log's writer thread ended (code ${code})`, null), 0),
    );
    this.timer = setInterval(() => this.flush(), settings.flushIntervalMs);
    this.timer.unref();
  }

  append(row: RequestLogRow, payload?: PayloadRow): void {
    if (this.suspended > 0 && this.buffer.length >= SUSPENDED_MAX_ROWS) {
      this.lostWhileSuspended += 1;
      return;
    }
    this.buffer.push(row);
    if (payload) this.payloads.push(payload);
    if (this.buffer.length >= this.settings.maxBuffered) setImmediate(() => this.flush());
  }

  /** Hands the buffered rows to the writer thread (kept while writes are suspended). */
  flush(): void {
    if (this.suspended > 0 || (this.buffer.length === 0 && this.payloads.length === 0)) return;
    const [rows, payloads] = [this.buffer, this.payloads];
    [this.buffer, this.payloads] = [[], []];
    this.thread.write(rows, payloads);
  }

  /** Flushes and waits until the rows are committed: for a reader that must see the latest rows (feedback naming a request). */
  flushAndWait(): void {
    this.flush();
    this.thread.flushSync();
  }

  /**
   * Runs `task` with writes held back: SQLite's online backup starts over whenever another
   * connection writes, so a large database would never finish copying under steady traffic.
   */
  async whileSuspended<T>(task: () => Promise<T>): Promise<T> {
    this.suspended += 1;
    try {
      return await task();
    } finally {
      this.suspended -= 1;
      if (this.suspended === 0) {
        if (this.lostWhileSuspended > 0) this.fail(new LogWriteError(`${this.lostWhileSuspended} rows did not fit while a backup ran`, null), this.lostWhileSuspended);
        this.lostWhileSuspended = 0;
        this.flush();
      }
    }
  }

  private written(result: LogBatchResult): void {
    if (result.failures.length === 0) {
      this.currentFailure = null;
      return;
    }
    for (const failure of result.failures) this.fail(new LogWriteError(failure.message, failure.code), failure.rows);
  }

  private fail(error: LogWriteError, dropped: number): void {
    this.currentFailure = { at: new Date().toISOString(), dropped: (this.currentFailure?.dropped ?? 0) + dropped, message: error.message };
    this.onError(error, dropped);
  }

  get failure(): RequestLogFailure | null {
    return this.currentFailure;
  }

  /** Writes what is buffered and ends the writer thread (its connection closed before the server's). */
  close(): void {
    clearInterval(this.timer);
    this.suspended = 0;
    this.flush();
    this.thread.close();
  }
}
