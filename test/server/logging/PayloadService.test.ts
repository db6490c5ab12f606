import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import Database from 'better-sqlite3';
import { PayloadService } from '../../../server/logging/PayloadService.js';
import { Store } from '../../../server/store/Store.js';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const ago = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();
const RETENTION_DAYS: Record<string, number> = { short: 1, long: 30 };

const dir = await mkdtemp(join(tmpdir(), 'inferbox-payloads-'));
after(() => rm(dir, { recursive: true, force: true }));

let store: Store;
let path: string;
let samplesErased: number;
let service: PayloadService;
let file = 0;

/** A fresh database per test with two models; payloads and live samples are added by each test. */
beforeEach(() => {
  store?.close();
  path = join(dir, `payloads-${++file}.db`);
  store = Store.open(path);
  const raw = new Database(path);
  raw.prepare("INSERT INTO models (name, active_version, created_at) VALUES ('short', '1', 'now'), ('long', '1', 'now')").run();
  raw.close();
  samplesErased = 0;
  service = new PayloadService({
    payloads: store.payloads,
    samples: store.quantization,
    retentionDays: (model) => RETENTION_DAYS[model]!,
    truncateWal: () => store.truncateWal(),
    onLiveSamplesErased: () => { samplesErased++; },
    now: () => NOW,
  });
});
after(() => store.close());

const payload = (model: string, requestId: string, ts: string, marker = requestId) => ({
  ts,
  request_id: requestId,
  model,
  version: '1',
  key_id: 'key1',
  payload_json: JSON.stringify({ request: JSON.stringify({ id: marker }), response: JSON.stringify({ model_name: model }) }),
});
const requestIds = () => store.payloads.list({}, 1000, 0).rows.map((r) => r.request_id).sort();
const liveSampleIds = () => store.quantization.listSamples('short', 100).concat(store.quantization.listSamples('long', 100)).map((s) => s.request_id).sort();
/** The database file and its write-ahead log, as bytes: what a disk image would show. */
const fileBytes = () => Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);

test("the purge deletes payloads and live samples older than their own model's retention, and nothing else", async () => {
  store.payloads.insertMany([
    payload('short', 'short-old', ago(25)),
    payload('short', 'short-new', ago(23)),
    payload('long', 'long-new', ago(24 * 29)),
    payload('long', 'long-old', ago(24 * 31)),
  ]);
  store.quantization.addSamples('short', 'live', [[]], ago(25), 'sample-old');
  store.quantization.addSamples('short', 'live', [[]], ago(1), 'sample-new');
  store.quantization.addSamples('short', 'uploaded', [[]], ago(24 * 100));

  assert.deepEqual(await service.purgeExpired(), { payloads: 2, live_samples: 1, wal_truncated: true });
  assert.deepEqual(requestIds(), ['long-new', 'short-new']);
  assert.deepEqual(liveSampleIds(), [null, 'sample-new'], "uploaded samples are the admin's own data and stay");
  assert.equal(samplesErased, 1, 'the live-sample recorder is told to count again');
  assert.deepEqual(await service.purgeExpired(), { payloads: 0, live_samples: 0, wal_truncated: true }, 'a second purge finds nothing');
});

test("payloads of a model deleted while they were buffered are dropped, not written", () => {
  store.payloads.insertMany([payload('short', 'kept', ago(1)), payload('deleted-meanwhile', 'dropped', ago(1))]);
  assert.deepEqual(requestIds(), ['kept']);
});

test('the export is one JSON object per payload, oldest first, filtered, and fixed when it starts', async () => {
  const rows = Array.from({ length: 450 }, (_, i) => payload(i % 2 === 0 ? 'short' : 'long', `r${i}`, ago(10 - i / 100)));
  store.payloads.insertMany(rows);
  const { count, lines } = service.export({ model: 'short' });
  assert.equal(count, 225);
  store.payloads.insertMany([payload('short', 'after-start', ago(0))]);
  const exported: Record<string, unknown>[] = [];
  for await (const line of lines) {
    assert.ok(line.endsWith('\n'));
    exported.push(JSON.parse(line) as Record<string, unknown>);
  }
  assert.equal(exported.length, 225, 'pages of 200 are joined; the row logged after the start is not in it');
  assert.deepEqual(Object.keys(exported[0]!).sort(), ['id', 'key_id', 'model', 'request', 'request_id', 'response', 'ts', 'version']);
  assert.deepEqual({ ...exported[0], id: undefined }, { id: undefined, ts: rows[0]!.ts, request_id: 'r0', model: 'short', version: '1', key_id: 'key1', request: '{"id":"r0"}', response: '{"model_name":"short"}' });
  assert.equal(exported.at(-1)!.request_id, 'r448');

  const ranged = service.export({ since: rows[10]!.ts, until: rows[13]!.ts });
  const ids: unknown[] = [];
  for await (const line of ranged.lines) ids.push((JSON.parse(line) as { request_id: string }).request_id);
  assert.deepEqual([ranged.count, ids], [3, ['r10', 'r11', 'r12']], 'since is inclusive, until exclusive');
});

test('erasure by request id, by time range and by model removes payloads and live samples, and leaves no trace in the file or its log', async () => {
  const marker = 'ERASE-ME-4b1d0c';
  store.payloads.insertMany([
    payload('short', 'subject', ago(5), marker),
    payload('short', 'a', ago(4)),
    payload('long', 'b', ago(3)),
    payload('long', 'c', ago(2)),
    payload('long', 'd', ago(1)),
  ]);
  store.quantization.addSamples('short', 'live', [[{ name: 'x', datatype: 'BYTES', shape: [1], data: [marker] }]], ago(5), 'subject');
  assert.ok(fileBytes().includes(marker), 'the test can see stored data in the file');

  assert.deepEqual(await service.erase({ request_id: 'subject' }), { payloads: 1, live_samples: 1, wal_truncated: true });
  assert.deepEqual(requestIds(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(liveSampleIds(), []);
  assert.ok(!fileBytes().includes(marker), 'erased data is zeroed in the database and gone from the write-ahead log');

  assert.deepEqual((await service.erase({ since: ago(3.5), until: ago(1.5) })).payloads, 2);
  assert.deepEqual(requestIds(), ['a', 'd']);
  store.payloads.insertMany(Array.from({ length: 250 }, (_, i) => payload('long', `bulk${i}`, ago(1))));
  assert.deepEqual((await service.erase({ model: 'long' })).payloads, 251, 'a large erasure runs in steps to the end');
  assert.deepEqual(requestIds(), ['a']);
  assert.deepEqual(await service.erase({ model: 'long' }), { payloads: 0, live_samples: 0, wal_truncated: true });
});
