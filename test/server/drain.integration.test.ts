import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { spawnServe, waitForServeBanner } from '../helpers/serveProcess.js';
import { GENTOO_FEATURES, makeDataDir } from '../helpers/testServer.js';

const ITEM = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

/** Whether a new TCP connection to the port is accepted. */
const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

test('SIGTERM drains: no new connections, the request in flight is answered, the job keeps its committed items, the log is flushed, SQLite closes cleanly, exit 0', async () => {
  const dataDir = await makeDataDir();
  const server = spawnServe(dataDir);
  try {
    const { url, output } = await waitForServeBanner(server);
    assert.ok(url, output);
    const port = Number(new URL(url).port);
    const key = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const state = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as { pid: number; urls: string[] };
    assert.equal(state.pid, server.pid, 'server.json names the serving process');
    assert.ok(state.urls.includes(url));

    // A job big enough to be running when the signal comes.
    const job = await fetch(`${url}/api/jobs?model=mlp`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(ITEM)}\n`.repeat(3000) });
    assert.equal(job.status, 202, await job.clone().text());

    // A request in flight: headers and half of its body are sent before the signal, the rest after.
    const body = Buffer.from(JSON.stringify(ITEM));
    const req = request(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-length': body.length } });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
    });
    req.write(body.subarray(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server has read the headers
    const exit = once(server, 'exit');
    server.kill('SIGTERM');
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = !(await accepts(port));
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(refused, 'no new connections once draining');
    req.end(body.subarray(20));
    const { status, text } = await answer;
    assert.equal(status, 200, `the request in flight is answered: ${text}`);
    const [code] = (await exit) as [number | null];
    assert.equal(code, 0, output);

    assert.ok(!existsSync(join(dataDir, 'inferbox.db-wal')), 'the last connection closed cleanly (SQLite checkpoints and removes the WAL on close)');
    assert.ok(!existsSync(join(dataDir, 'server.json')), 'server.json is removed on a clean exit');
    const db = new Database(join(dataDir, 'inferbox.db'), { readonly: true });
    try {
      const logged = db.prepare('SELECT COUNT(*) AS n FROM request_log WHERE status = 200 AND model = ?').get('mlp') as { n: number };
      assert.ok(logged.n >= 1, 'the answered request was written to the request log before exit');
      const row = db.prepare('SELECT state, done, failed, total FROM jobs').get() as { state: string; done: number; failed: number; total: number };
      const results = (db.prepare('SELECT COUNT(*) AS n FROM job_results').get() as { n: number }).n;
      assert.equal(results, row.done + row.failed, 'every item the counters count has its result: the current items committed whole');
      assert.ok(row.state === 'succeeded' || results < row.total, `${JSON.stringify(row)}`);
    } finally {
      db.close();
    }
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
