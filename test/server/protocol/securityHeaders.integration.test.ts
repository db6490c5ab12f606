import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { httpsRequest } from '../../helpers/httpsRequest.js';
import { manualNetwork } from '../../helpers/testCertificates.js';
import { startTestServer } from '../../helpers/testServer.js';

/** Headers every answer carries, API and console, success and error alike. */
function assertCommonHeaders(headers: IncomingHttpHeaders | Headers, what: string): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : (headers[name] as string | undefined) ?? null);
  assert.equal(get('x-content-type-options'), 'nosniff', what);
  assert.equal(get('referrer-policy'), 'no-referrer', what);
  assert.equal(get('x-frame-options'), 'DENY', what);
  assert.equal(get('cross-origin-opener-policy'), 'same-origin', what);
  assert.equal(get('cross-origin-resource-policy'), 'same-origin', what);
  assert.equal(get('x-powered-by'), null, what);
  assert.match(get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
}

const API_CSP = "default-src 'none';frame-ancestors 'none'";

test('over HTTPS: HSTS and the usual headers on API answers, errors and the console; the API gets a CSP that allows nothing', async () => {
  const server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 }, network: manualNetwork({ hostname: 'inferbox-test', addresses: ['192.0.2.10'] }) });
  try {
    const port = server.running.port;
    for (const [path, key, status] of [['/api/system', server.adminKey, 200], ['/api/system', undefined, 401], ['/v2/health/live', undefined, 200], ['/nope', undefined, 404]] as const) {
      const answer = await httpsRequest(port, path, key ? { key } : {});
      assert.equal(answer.status, status, path);
      assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000', `${path}: HSTS, a year, no includeSubDomains`);
      assertCommonHeaders(answer.headers, `${path} ${status}`);
      assert.equal(answer.headers['content-security-policy'], API_CSP, path);
    }
    const console = await httpsRequest(port, '/');
    assert.equal(console.status, 200);
    assert.equal(console.headers['strict-transport-security'], 'max-age=31536000');
    assertCommonHeaders(console.headers, 'console');
    assert.match(String(console.headers['content-security-policy']), /^default-src 'self';/, "the console's own CSP replaces the API's");
    assert.doesNotMatch(String(console.headers['content-security-policy']), /default-src 'none'/);
  } finally {
    await server.cleanup();
  }
});

test('over plain HTTP: the same headers but no HSTS (RFC 6797 §7.2)', async () => {
  const server = await startTestServer();
  try {
    for (const path of ['/v2/health/live', '/', '/api/system']) {
      const answer = await server.request('GET', path);
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers.get('strict-transport-security'), null, `${path}: no HSTS over HTTP`);
      assertCommonHeaders(answer.headers, path);
    }
  } finally {
    await server.cleanup();
  }
});
