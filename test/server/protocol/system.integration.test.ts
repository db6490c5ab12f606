import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListenError } from '../../../server/common/ListenError.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

test('GET /api/system describes hardware and plan in snake_case', async () => {
  const info = (await (await server.request('GET', '/api/system')).json()) as Record<string, Record<string, unknown>>;
  const cpu = info.hardware!.cpu as Record<string, unknown>;
  assert.ok(typeof cpu.physical_cores === 'number' && cpu.physical_cores >= 1);
  if (cpu.flags !== null) assert.ok(typeof (cpu.flags as Record<string, unknown>).avx2 === 'boolean');
  assert.equal((info.execution_plan!.execution_providers as string[]).at(-1), 'cpu', 'CPU is always the fallback');
  assert.equal(info.execution_plan!.intra_op_threads, 1, 'the test server asks for 1 thread per instance');
  assert.equal(info.providers!.cpu, true);
  assert.doesNotMatch(JSON.stringify(info), /"[a-z]+[A-Z]\w*":/, 'no camelCase keys');
});


test('settings: validated partial updates, saved, and the restart-only ones are named', async () => {
  const bad = await server.request('PUT', '/api/settings', { json: { port: 'x', colour: 'blue' } });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /port/);
  const put = await server.request('PUT', '/api/settings', { json: { port: 9100, log_retention_days: 10 } });
  assert.equal(put.status, 200);
  const body = (await put.json()) as { restart_required: string[]; saved: Record<string, unknown>; effective: Record<string, unknown> };
  assert.deepEqual(body.restart_required, ['port']);
  assert.deepEqual(body.saved, { port: 9100, log_retention_days: 10 });
  assert.equal(body.effective.log_retention_days, 10, 'takes effect at once');
  assert.equal(body.effective.port, 0, 'the running port stays until a restart');
  const reset = (await (await server.request('PUT', '/api/settings', { json: { port: null } })).json()) as { saved: Record<string, unknown> };
  assert.deepEqual(reset.saved, { log_retention_days: 10 });
});

test('settings name what a flag or environment variable sets for this run', async () => {
  const view = (await (await server.request('GET', '/api/settings')).json()) as { overridden: string[] };
  assert.deepEqual(view.overridden.sort(), ['host', 'port'], 'the test server passes host and port as overrides, like --host/--port');
});

test('first-run wizard state: not done on a fresh data dir, done once (audited once), admin only', async () => {
  const { key: inferKey } = (await (await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
  assert.equal((await server.request('GET', '/api/setup', { key: inferKey })).status, 403);
  assert.equal((await server.request('POST', '/api/setup/complete', { key: inferKey })).status, 403);
  assert.deepEqual(await (await server.request('GET', '/api/setup')).json(), { completed_at: null });
  const first = (await (await server.request('POST', '/api/setup/complete')).json()) as { completed_at: string };
  assert.ok(!Number.isNaN(Date.parse(first.completed_at)));
  const again = (await (await server.request('POST', '/api/setup/complete')).json()) as { completed_at: string };
  assert.equal(again.completed_at, first.completed_at, 'finishing twice keeps the first time');
  assert.deepEqual(await (await server.request('GET', '/api/setup')).json(), first);
  const audit = (await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: { action: string }[] };
  assert.equal(audit.entries.filter((e) => e.action === 'setup.complete').length, 1);
  const settings = (await (await server.request('GET', '/api/settings')).json()) as { saved: Record<string, unknown> };
  assert.ok(!('first_run_completed_at' in settings.saved), 'not a setting: it stays out of the settings view');
});

test('an address that cannot be bound fails the start with a clear error and leaves nothing running', async () => {
  await assert.rejects(startTestServer({ dataDir: server.dataDir, overrides: { host: '127.0.0.1', port: server.running.port } }), (e: unknown) => e instanceof ListenError && /EADDRINUSE/.test(e.message));
  assert.equal((await server.request('GET', '/v2/health/live', { key: null })).status, 200, 'the running server is untouched');
});
