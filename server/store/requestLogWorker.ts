/**
 * The request log's writer thread: its own SQLite connection to the appliance database, so that
 * inserting request-log and payload rows (four indexes; ~10 µs a row) costs the HTTP thread
 * nothing but handing the batch over. The server's connection migrated the schema already.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { PayloadRepository, type PayloadRow } from './PayloadRepository.js';
import { RequestLogRepository, type RequestLogRow } from './RequestLogRepository.js';
import type { LogBatch, LogBatchResult } from './RequestLogThread.js';

const port = parentPort;
if (!port) throw new Error('requestLogWorker must run in a worker thread');
const { path, acknowledged } = workerData as { path: string; acknowledged: SharedArrayBuffer };
const acks = new Int32Array(acknowledged);

const db = new Database(path);
// The same per-connection settings as the server's own connection (openDatabase): deleted rows zeroed.
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.pragma('secure_delete = ON');
const requestLog = new RequestLogRepository(db);
const payloads = new PayloadRepository(db);

function write<T>(kind: 'requests' | 'payloads', rows: T[], insert: (rows: T[]) => void, failures: LogBatchResult['failures']): void {
  if (rows.length === 0) return;
  try {
    insert(rows);
  } catch (error) {
    const { message, code } = error as { message?: string; code?: string };
    failures.push({ kind, rows: rows.length, message: message ?? String(error), code: code ?? null });
  }
}

port.on('message', (batch: LogBatch) => {
  const failures: LogBatchResult['failures'] = [];
  if (batch.close) {
    db.close();
  } else {
    write('requests', batch.rows as RequestLogRow[], (rows) => requestLog.insertMany(rows), failures);
    write('payloads', batch.payloads as PayloadRow[], (rows) => payloads.insertMany(rows), failures);
  }
  // A waiting flush (Atomics.wait on the HTTP thread) wakes once its batch is committed.
  Atomics.store(acks, 0, batch.seq);
  Atomics.notify(acks, 0);
  port.postMessage({ seq: batch.seq, failures } satisfies LogBatchResult);
});
