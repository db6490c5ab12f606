/**
 * What `PRAGMA secure_delete = ON` (server/store/openDatabase.ts) costs a purge: a table like the
 * payload table, deleting 90% of its rows with it off and on, twice each, for small rows and for
 * payload-sized rows that spill onto overflow pages. Same pragmas as the appliance (WAL,
 * synchronous NORMAL). Run with `npx tsx bench/secureDelete.ts`; last line: one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

const rows: { rows: number; bytes: number; secure_delete: string; delete_ms: number; with_checkpoint_ms: number }[] = [];
for (const [count, bytes] of [[20_000, 300], [5_000, 8_000]] as const) {
  for (const mode of ['OFF', 'ON', 'OFF', 'ON']) {
    const dir = mkdtempSync(join(tmpdir(), 'inferbox-secure-delete-'));
    const db = new Database(join(dir, 'bench.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`secure_delete = ${mode}`);
    db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, body TEXT NOT NULL); CREATE INDEX p_ts ON p(ts)');
    const insert = db.prepare('INSERT INTO p (ts, body) VALUES (?, ?)');
    db.transaction(() => { for (let i = 0; i < count; i++) insert.run(String(i).padStart(8, '0'), 'x'.repeat(bytes)); })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const started = performance.now();
    db.prepare('DELETE FROM p WHERE ts < ?').run(String(Math.floor(count * 0.9)).padStart(8, '0'));
    const deleteMs = performance.now() - started;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const row = { rows: count, bytes, secure_delete: mode, delete_ms: +deleteMs.toFixed(1), with_checkpoint_ms: +(performance.now() - started).toFixed(1) };
    console.log(`${count} rows × ${bytes} B, delete 90%, secure_delete ${mode}: ${row.delete_ms} ms (+ checkpoint: ${row.with_checkpoint_ms} ms)`);
    rows.push(row);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify({ rows }));
