import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import type { PayloadRow } from './PayloadRepository.js';
import type { RequestLogRow } from './RequestLogRepository.js';

/** One hand-over to the writer thread (`close`: commit nothing more, close the connection). */
export interface LogBatch {
  seq: number;
  rows: RequestLogRow[];
  payloads: PayloadRow[];
  close?: boolean;
}

/** What the writer thread made of a batch: the writes that failed, with SQLite's code (SQLITE_FULL: a full disk). */
export interface LogBatchResult {
  seq: number;
  failures: { kind: 'requests' | 'payloads'; rows: number; message: string; code: string | null }[];
}

/** Longest a synchronous flush or close waits for the writer (a stuck disk must not hang the server). */
const WAIT_MS = 10_000;

/**
 * The request log's writer thread (`requestLogWorker`), with its own connection to the database:
 * batches are handed over as they are (structured clone) and written there. `flushSync` blocks the
 * calling thread until everything handed over is committed: for the rare reader that must see the
 * latest rows (feedback naming a request id) and for shutdown.
 */
export class RequestLogThread {
  private readonly worker: Worker;
  private readonly acknowledged = new SharedArrayBuffer(4);
  private readonly acks = new Int32Array(this.acknowledged);
  private seq = 0;
  private closed = false;

  constructor(path: string, onResult: (result: LogBatchResult) => void, onExit: (code: number) => void) {
    this.worker = spawnWorker(siblingModule(import.meta.url, 'requestLogWorker'), { workerData: { path, acknowledged: this.acknowledged } });
    this.worker.on('message', onResult);
    this.worker.on('error', () => undefined); // 'exit' follows; the writer reports it
    this.worker.on('exit', (code) => { if (!this.closed) onExit(code); });
    // The thread must not keep a stopping process alive; close() ends it explicitly.
    this.worker.unref();
  }

  write(rows: RequestLogRow[], payloads: PayloadRow[]): void {
    if (this.closed) return;
    this.worker.postMessage({ seq: ++this.seq, rows, payloads } satisfies LogBatch);
  }

  /** Blocks until every batch handed over so far is committed (or WAIT_MS passes). */
  flushSync(): void {
    const deadline = Date.now() + WAIT_MS;
    for (let seen = Atomics.load(this.acks, 0); seen < this.seq && Date.now() < deadline; seen = Atomics.load(this.acks, 0)) {
      Atomics.wait(this.acks, 0, seen, deadline - Date.now());
    }
  }

  /** Commits what was handed over, closes the writer's connection (so the server's is the last and removes the WAL), ends the thread. */
  close(): void {
    if (this.closed) return;
    this.worker.postMessage({ seq: ++this.seq, rows: [], payloads: [], close: true } satisfies LogBatch);
    this.flushSync();
    this.closed = true;
    void this.worker.terminate();
  }
}
