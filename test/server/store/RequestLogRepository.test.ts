import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store } from '../../../server/store/Store.js';
import type { RequestLogRow } from '../../../server/store/RequestLogRepository.js';

const dir = await mkdtemp(join(tmpdir(), 'inferbox-log-'));
const store = Store.open(join(dir, 'log.db'));
after(async () => { store.close(); await rm(dir, { recursive: true, force: true }); });

const row = (ts: string, overrides: Partial<RequestLogRow> = {}): RequestLogRow => ({
  ts, request_id: null, model: 'mlp', version: '1', key_id: 'k1', status: 200, error: null,
  total_ms: 1, decode_ms: 0.05, queue_ms: 0.1, batch_ms: 0, infer_ms: 0.5, serialize_ms: 0.02, batch_rows: 1, experiment_id: null, variant: null, unit_id: null, trace_id: null, bytes_in: 100, bytes_out: 200, ...overrides,
});

test('filters, paging (newest first) and retention purge', () => {
  store.requestLog.insertMany([
    row('2026-01-01T00:00:00.000Z'),
    row('2026-02-01T00:00:00.000Z', { status: 400, error: 'bad' }),
    row('2026-03-01T00:00:00.000Z', { model: 'other' }),
    row('2026-04-01T00:00:00.000Z', { key_id: 'k2', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }),
  ]);
  const page = (q: Partial<Parameters<typeof store.requestLog.query>[0]>) => store.requestLog.query({ limit: 100, offset: 0, ...q });
  assert.equal(page({}).total, 4);
  assert.deepEqual(page({ limit: 2 }).rows.map((r) => r.ts.slice(0, 7)), ['2026-04', '2026-03']);
  assert.deepEqual(page({ limit: 2, offset: 2 }).rows.map((r) => r.ts.slice(0, 7)), ['2026-02', '2026-01']);
  assert.equal(page({ model: 'mlp' }).total, 3);
  assert.equal(page({ status: 'error' }).total, 1);
  assert.deepEqual(page({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }).rows.map((r) => r.key_id), ['k2'], 'found by its trace id');
  assert.equal(page({ status: 400 }).rows[0]!.error, 'bad');
  assert.equal(page({ key_id: 'k2' }).total, 1);
  assert.equal(page({ since: '2026-02-01T00:00:00.000Z', until: '2026-04-01T00:00:00.000Z' }).total, 2);
  assert.equal(store.requestLog.purgeBefore('2026-03-01T00:00:00.000Z'), 2);
  assert.equal(page({}).total, 2);
});
