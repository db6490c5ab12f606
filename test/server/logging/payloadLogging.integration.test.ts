import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENTOO_FEATURES, startTestServer } from '../../helpers/testServer.js';

const logRowOf = async (server: Awaited<ReturnType<typeof startTestServer>>, requestId: string) => {
  for (let i = 0; i < 50; i++) {
    const logs = (await (await server.request('GET', '/api/logs?model=mlp&limit=50')).json()) as { logs: { request_id: string; payload_json: string | null }[] };
    const row = logs.logs.find((r) => r.request_id === requestId);
    if (row) return row;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`request ${requestId} was not logged`);
};

test('payloads are not logged unless the admin turns it on; then request and response are, and the change is audited', async () => {
  const server = await startTestServer();
  try {
    const body = { id: 'penguin-1', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };
    const plain = await server.request('POST', '/v2/models/mlp/infer', { json: body });
    assert.equal((await logRowOf(server, plain.headers.get('x-request-id')!)).payload_json, null, 'off by default');

    assert.equal((await server.request('PUT', '/api/settings', { json: { log_payloads: true } })).status, 200);
    const logged = await server.request('POST', '/v2/models/mlp/infer', { json: body });
    const answer = await logged.text();
    const payload = JSON.parse((await logRowOf(server, logged.headers.get('x-request-id')!)).payload_json!) as { request: string; response: string };
    assert.deepEqual(JSON.parse(payload.request), body);
    assert.equal(payload.response, answer);
    const audit = (await (await server.request('GET', '/api/audit?action=settings.update')).json()) as { entries: { details: { changes: Record<string, unknown> } }[] };
    assert.ok(audit.entries.some((e) => e.details.changes.log_payloads === true));
  } finally {
    await server.cleanup();
  }
});
